// Models include/linux/uio.h (v6.1): struct iov_iter, the cursor over the memory a read or write
// moves data to or from. ITER_UBUF is one user buffer (read(2), write(2), send and recv); ITER_KVEC
// a kernel buffer (the kernel's own socket calls). copy_to_iter and copy_from_iter advance it and
// return how much they moved; a short count from a user buffer means a fault.
#pragma once
#include <cstddef>

#include "glasskernel/types.h"
#include "glasskernel/uaccess.h"

namespace gk {

enum iter_type : u8 { ITER_UBUF, ITER_IOVEC, ITER_KVEC };
enum : unsigned { ITER_DEST = 0, ITER_SOURCE = 1 };  // READ into the iterator, WRITE from it

// include/uapi/linux/uio.h: one user buffer of a vector (readv, sendmsg, recvmsg).
struct iovec {
    void __user* iov_base;
    size_t iov_len;
};
constexpr int UIO_MAXIOV = 1024;

struct iov_iter {
    iter_type type = ITER_KVEC;
    bool data_source = false;
    size_t iov_offset = 0;  // how far into the current segment the cursor is
    size_t count = 0;       // what is left
    void __user* ubuf = nullptr;
    void* kbuf = nullptr;
    const iovec* iov = nullptr;  // ITER_IOVEC: the segments (copied into the kernel)
    unsigned long nr_segs = 0;
};

void iov_iter_ubuf(iov_iter* i, unsigned direction, void __user* buf, size_t count);
void iov_iter_init(iov_iter* i, unsigned direction, const iovec* iov, unsigned long nr_segs, size_t count);
void iov_iter_kvec(iov_iter* i, unsigned direction, void* buf, size_t count);
inline size_t iov_iter_count(const iov_iter* i) { return i->count; }
size_t copy_to_iter(const void* addr, size_t bytes, iov_iter* i);
size_t copy_from_iter(void* addr, size_t bytes, iov_iter* i);
inline bool copy_from_iter_full(void* addr, size_t bytes, iov_iter* i) { return copy_from_iter(addr, bytes, i) == bytes; }
// import_single_range: a user buffer for one read or write; a length beyond MAX_RW_COUNT is cut.
int import_single_range(unsigned direction, void __user* buf, size_t len, iov_iter* i);

constexpr size_t MAX_RW_COUNT = 0x7ffff000;  // INT_MAX & PAGE_MASK: the most one read or write moves

// The kernel's side of a file operation (include/linux/fs.h).
struct kiocb {
    struct file* ki_filp;
};

}  // namespace gk
