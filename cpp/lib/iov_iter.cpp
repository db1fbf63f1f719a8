// Models lib/iov_iter.c (v6.1) for the two kinds of iterator the model uses: one user buffer
// (ITER_UBUF) and one kernel buffer (ITER_KVEC).
#include <algorithm>
#include <cstring>

#include "glasskernel/uio.h"

namespace gk {

void iov_iter_ubuf(iov_iter* i, unsigned direction, void __user* buf, size_t count) {
    *i = iov_iter{};
    i->type = ITER_UBUF;
    i->data_source = direction == ITER_SOURCE;
    i->ubuf = buf;
    i->count = count;
}

void iov_iter_init(iov_iter* i, unsigned direction, const iovec* iov, unsigned long nr_segs, size_t count) {
    *i = iov_iter{};
    i->type = ITER_IOVEC;
    i->data_source = direction == ITER_SOURCE;
    i->iov = iov;
    i->nr_segs = nr_segs;
    i->count = count;
}

void iov_iter_kvec(iov_iter* i, unsigned direction, void* buf, size_t count) {
    *i = iov_iter{};
    i->type = ITER_KVEC;
    i->data_source = direction == ITER_SOURCE;
    i->kbuf = buf;
    i->count = count;
}

int import_single_range(unsigned direction, void __user* buf, size_t len, iov_iter* i) {
    if (len > MAX_RW_COUNT) len = MAX_RW_COUNT;
    if (!access_ok(buf, len)) return -EFAULT;
    iov_iter_ubuf(i, direction, buf, len);
    return 0;
}

// One step of a copy: the largest piece that lies in one segment, moved by move(dst, src, n),
// which returns the bytes it could not move (a fault).
template <typename Move>
static size_t iterate(iov_iter* i, size_t bytes, Move move) {
    bytes = std::min(bytes, i->count);
    size_t done = 0;
    while (done < bytes) {
        size_t seg_left;
        char* base;
        if (i->type == ITER_IOVEC) {
            while (i->nr_segs && i->iov_offset >= i->iov->iov_len) {
                i->iov++;
                i->nr_segs--;
                i->iov_offset = 0;
            }
            if (!i->nr_segs) break;
            base = static_cast<char*>(i->iov->iov_base);
            seg_left = i->iov->iov_len - i->iov_offset;
        } else {
            base = static_cast<char*>(i->type == ITER_UBUF ? i->ubuf : i->kbuf);
            seg_left = bytes - done;
        }
        size_t n = std::min(seg_left, bytes - done);
        size_t left = move(base + i->iov_offset, done, n);
        i->iov_offset += n - left;
        i->count -= n - left;
        done += n - left;
        if (left) break;
    }
    return done;
}

size_t copy_to_iter(const void* addr, size_t bytes, iov_iter* i) {
    if (i->data_source) return 0;  // an iterator to read from cannot be written to
    const char* from = static_cast<const char*>(addr);
    bool user = i->type != ITER_KVEC;
    return iterate(i, bytes, [&](char* to, size_t off, size_t n) -> size_t {
        if (user) return copy_to_user(to, from + off, n);
        std::memcpy(to, from + off, n);
        return 0;
    });
}

size_t copy_from_iter(void* addr, size_t bytes, iov_iter* i) {
    if (!i->data_source) return 0;
    char* to = static_cast<char*>(addr);
    bool user = i->type != ITER_KVEC;
    return iterate(i, bytes, [&](char* from, size_t off, size_t n) -> size_t {
        if (user) return copy_from_user(to + off, from, n);
        std::memcpy(to + off, from, n);
        return 0;
    });
}

}  // namespace gk
