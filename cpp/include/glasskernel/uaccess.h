// Models arch/x86/include/asm/uaccess.h and include/linux/uaccess.h (v6.1): the only way kernel
// code touches user memory. A __user pointer is an address in the current task's address space,
// never dereferenced by the kernel: copy_to_user and copy_from_user return the number of bytes they
// could not copy (an unmapped or read-only address), which system calls turn into EFAULT.
#pragma once
#include "glasskernel/types.h"

#define __user

namespace gk {

bool access_ok(const void __user* addr, unsigned long size);
unsigned long copy_to_user(void __user* to, const void* from, unsigned long n);
unsigned long copy_from_user(void* to, const void __user* from, unsigned long n);
unsigned long clear_user(void __user* to, unsigned long n);
// Copies a NUL-terminated string of at most count bytes: its length, or -EFAULT.
long strncpy_from_user(char* dst, const char __user* src, long count);
// The size of the string including its NUL (at most n + 1), or 0 on a fault.
long strnlen_user(const char __user* str, long n);

template <typename T, typename U>
inline int put_user(T x, U __user* ptr) {
    U v = static_cast<U>(x);
    return copy_to_user(ptr, &v, sizeof(U)) ? -EFAULT : 0;
}

template <typename T, typename U>
inline int get_user(T& x, const U __user* ptr) {
    U v{};
    if (copy_from_user(&v, ptr, sizeof(U))) return -EFAULT;
    x = static_cast<T>(v);
    return 0;
}

}  // namespace gk
