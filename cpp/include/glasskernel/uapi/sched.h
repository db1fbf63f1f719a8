// Models include/uapi/linux/sched/types.h: struct sched_param.
#pragma once

namespace gk {

struct sched_param {
    int sched_priority;
};

}  // namespace gk
