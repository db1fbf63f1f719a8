// Models arch/x86/lib/usercopy_64.c and lib/strncpy_from_user.c (v6.1): copies between the kernel
// and the current task's user memory. They return what they could not copy, as Linux's do after a
// fault in the middle of a copy.
#include "glasskernel/linux.h"
#include "glasskernel/uaccess.h"

namespace gk {

static mm_struct* current_mm() {
    task_struct* t = current;
    return t ? t->mm.get() : nullptr;
}

// __access_ok: the range lies below the top of user space.
bool access_ok(const void __user* addr, unsigned long size) {
    unsigned long a = reinterpret_cast<unsigned long>(addr);
    return size <= TASK_SIZE_MAX && a <= TASK_SIZE_MAX - size;
}

unsigned long copy_to_user(void __user* to, const void* from, unsigned long n) {
    if (!n) return 0;
    if (!access_ok(to, n)) return n;
    return access_user_memory(current_mm(), reinterpret_cast<unsigned long>(to), const_cast<void*>(from), n, true);
}

unsigned long copy_from_user(void* to, const void __user* from, unsigned long n) {
    if (!n) return 0;
    if (!access_ok(from, n)) return n;
    return access_user_memory(current_mm(), reinterpret_cast<unsigned long>(from), to, n, false);
}

unsigned long clear_user(void __user* to, unsigned long n) {
    static const char zeros[256] = {};
    unsigned long done = 0;
    while (done < n) {
        unsigned long chunk = std::min<unsigned long>(n - done, sizeof zeros);
        unsigned long left = copy_to_user(static_cast<char __user*>(to) + done, zeros, chunk);
        if (left) return n - done - chunk + left;
        done += chunk;
    }
    return 0;
}

long strncpy_from_user(char* dst, const char __user* src, long count) {
    for (long i = 0; i < count; i++) {
        if (copy_from_user(dst + i, src + i, 1)) return -EFAULT;
        if (!dst[i]) return i;
    }
    return count;
}

long strnlen_user(const char __user* str, long n) {
    for (long i = 0; i <= n; i++) {
        char c;
        if (copy_from_user(&c, str + i, 1)) return 0;
        if (!c) return i + 1;
    }
    return n + 1;
}

}  // namespace gk
