// The simulator's report of a run that can go no further (see hung_task.cpp).
#pragma once
#include <memory>
#include <vector>

#include "glasskernel/kernel.h"

namespace gk {

// The user tasks blocked for good once the machine is quiet: asleep or stopped, not init.
std::vector<std::shared_ptr<task_struct>> find_blocked_tasks(Kernel& k);

}  // namespace gk
