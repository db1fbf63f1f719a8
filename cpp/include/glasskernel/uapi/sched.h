// Models include/uapi/linux/sched/types.h (v6.1): struct sched_param.
#pragma once

namespace gk {

struct sched_param {
    int sched_priority;
};

}  // namespace gk
