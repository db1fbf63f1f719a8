// Models mm/percpu.c's setup_per_cpu_areas (v6.1): each per-CPU variable gets one copy per CPU at
// boot.
#include "glasskernel/linux.h"

namespace gk {

void setup_per_cpu_areas(Kernel* k) {
    for (percpu_var_base* v : k->percpu_vars) v->setup(k->cfg.cpus);
}

std::string percpu_show_task(const task_struct* t) {
    if (!t) return "NULL";
    return t->comm + "/" + std::to_string(t->pid);
}

}  // namespace gk
