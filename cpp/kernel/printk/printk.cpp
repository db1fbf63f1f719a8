// Models kernel/printk/printk.c (v6.1): printk() appends a record, stamped with the CPU's virtual
// clock, to the kernel's log buffer, which dmesg reads. Levels and the console are left out.
#include <cstdarg>
#include <cstdio>

#include "glasskernel/linux.h"

namespace gk {

// Enough for any record we format; longer ones are cut, as LOG_LINE_MAX cuts Linux's.
static constexpr size_t LOG_LINE_MAX = 1024;
static constexpr size_t LOG_BUF_RECORDS = 4096;  // the oldest records go first when full

int printk(const char* fmt, ...) {
    Kernel* k = this_kernel;
    char buf[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (k->log_buf.size() >= LOG_BUF_RECORDS) k->log_buf.erase(k->log_buf.begin());
    k->log_buf.emplace_back(ktime_get(), std::string(buf));
    trace_point("printk", "%s", buf);
    return n;
}

}  // namespace gk
