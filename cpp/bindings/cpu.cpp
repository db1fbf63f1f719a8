// The simulator's Python binding. Python views of what each CPU is doing: preempt_count and its fields (in_interrupt() and
// friends), whether interrupts are off, pending softirqs, the registers the current interrupt
// saved (get_irq_regs), per-CPU variables, the preemption model, and the kernel log (dmesg).
#include "bindings/views.h"

namespace gk {

py::dict pt_regs_dict(const pt_regs& r) {
    py::dict d;
#define REG(x) d[#x] = r.x;
    REG(r15) REG(r14) REG(r13) REG(r12) REG(bp) REG(bx) REG(r11) REG(r10) REG(r9) REG(r8)
    REG(ax) REG(cx) REG(dx) REG(si) REG(di) REG(orig_ax) REG(ip) REG(cs) REG(flags) REG(sp) REG(ss)
#undef REG
    d["user_mode"] = user_mode(&r);
    d["interrupts_enabled"] = (r.flags & X86_EFLAGS_IF) != 0;
    // orig_ax holds ~vector for an interrupt, the number for a system call.
    long oa = static_cast<long>(r.orig_ax);
    if (oa < 0) d["vector"] = ~oa;
    else d["syscall"] = oa;
    return d;
}

static preempt_model parse_preempt_model(const std::string& s) {
    if (s == "none") return PREEMPT_NONE;
    if (s == "voluntary") return PREEMPT_VOLUNTARY;
    if (s == "full") return PREEMPT_FULL;
    throw py::value_error("preempt must be 'none', 'voluntary' or 'full', not '" + s + "'");
}

static void check_cpu(const Kernel& k, int cpu) {
    if (cpu < 0 || cpu >= k.cfg.cpus) throw py::value_error("no cpu " + std::to_string(cpu) + " (this kernel has " + std::to_string(k.cfg.cpus) + ")");
}

preempt_model preempt_model_from_string(const std::string& s) { return parse_preempt_model(s); }

void bind_cpu(py::class_<Kernel, std::shared_ptr<Kernel>>& cls) {
    cls.def("_cpu_state", [](Kernel& k, int cpu) {
           check_cpu(k, cpu);
           rq* r = k.cpu_rq(cpu);
           task_struct* t = r->curr;
           int pc = t ? t->thread_info.preempt_count : 0;
           py::dict d;
           d["curr"] = t ? t->pid : -1;
           d["preempt_count"] = pc;
           d["preempt_disable_depth"] = pc & 0xff;
           d["softirq_count"] = (pc & SOFTIRQ_MASK) >> 8;
           d["hardirq_count"] = (pc & HARDIRQ_MASK) >> 16;
           d["nmi_count"] = (pc & NMI_MASK) >> 20;
           d["in_interrupt"] = (pc & (HARDIRQ_MASK | SOFTIRQ_MASK | NMI_MASK)) != 0;
           d["in_softirq"] = (pc & SOFTIRQ_MASK) != 0;
           d["in_serving_softirq"] = (pc & SOFTIRQ_OFFSET) != 0;
           d["in_hardirq"] = (pc & HARDIRQ_MASK) != 0;
           d["in_atomic"] = pc != 0;
           d["irqs_disabled"] = static_cast<bool>(k.irqs_off[cpu]);
           d["need_resched"] = t && need_resched_task(t);
           d["softirq_pending"] = per_cpu(k.softirq_pending, cpu);
           d["clock"] = r->clock;
           return d;
       })
        .def("_tasklet_lists", [](Kernel& k, int cpu) {
            check_cpu(k, cpu);
            py::dict d;
            const char* names[2] = {"hi", "normal"};
            tasklet_struct* heads[2] = {per_cpu(k.tasklet_hi_vec, cpu), per_cpu(k.tasklet_vec, cpu)};
            for (int i = 0; i < 2; i++) {
                py::list l;
                for (tasklet_struct* t = heads[i]; t; t = t->next) l.append(t->name);
                d[names[i]] = l;
            }
            return d;
        })
        .def("_irq_regs", [](Kernel& k, int cpu) -> py::object {
            check_cpu(k, cpu);
            pt_regs* r = per_cpu(k.__irq_regs, cpu);
            if (!r) return py::none();
            return pt_regs_dict(*r);
        })
        .def("_per_cpu_names", [](Kernel& k) {
            std::vector<std::string> v;
            for (percpu_var_base* p : k.percpu_vars) v.emplace_back(p->name);
            return v;
        })
        .def("_per_cpu", [](Kernel& k, const std::string& name) {
            for (percpu_var_base* p : k.percpu_vars) {
                if (name != p->name) continue;
                py::list out;
                for (int c = 0; c < k.cfg.cpus; c++) {
                    long v;
                    if (p->as_long(c, &v)) out.append(v);
                    else out.append(p->show(c));
                }
                return out;
            }
            throw py::key_error("no per-CPU variable '" + name + "'; k.per_cpu_names() lists them");
        })
        .def_property("preempt_model", [](Kernel& k) { return std::string(preempt_model_name(k.cfg.preempt)); },
                      [](Kernel& k, const std::string& s) {
                          preempt_model m = parse_preempt_model(s);
                          kernel_context ctx(&k);
                          sched_dynamic_update(m);
                      },
                      "The preemption model: 'none', 'voluntary' or 'full' (settable, as PREEMPT_DYNAMIC's "
                      "/sys/kernel/debug/sched/preempt is).")
        .def("_dmesg", [](Kernel& k) {
            py::list out;
            for (auto& [ts, line] : k.log_buf) out.append(py::make_tuple(ts, line));
            return out;
        });
}

}  // namespace gk
