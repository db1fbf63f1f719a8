// Models include/linux/pipe_fs_i.h (v6.1): struct pipe_inode_info, the ring of pipe_buffers
// between head (where writers add) and tail (where readers take), and the helpers on it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "glasskernel/mm_types.h"
#include "glasskernel/wait.h"

namespace gk {

struct file;
class Kernel;

constexpr unsigned PIPE_DEF_BUFFERS = 16;  // a new pipe holds 16 pages: 64 KiB
constexpr unsigned PIPE_BUF = 4096;        // writes up to this size are atomic (limits.h)
constexpr unsigned PIPE_MAX_SIZE = 1048576;  // /proc/sys/fs/pipe-max-size's default

enum : unsigned {
    PIPE_BUF_FLAG_LRU = 0x01,
    PIPE_BUF_FLAG_ATOMIC = 0x02,
    PIPE_BUF_FLAG_GIFT = 0x04,
    PIPE_BUF_FLAG_PACKET = 0x08,     // O_DIRECT pipes: one write is one read ("packet mode")
    PIPE_BUF_FLAG_CAN_MERGE = 0x10,  // a later small write may append to this buffer
};

// One slot of the ring: a page and the bytes of it that hold data.
struct pipe_buffer {
    std::unique_ptr<page_data> page;
    unsigned offset = 0, len = 0;
    unsigned flags = 0;
};

struct pipe_inode_info {
    unsigned head = 0, tail = 0;  // free-running: slot = index & (ring_size - 1)
    unsigned max_usage = PIPE_DEF_BUFFERS;  // how many slots writers may fill (F_SETPIPE_SZ)
    unsigned ring_size = PIPE_DEF_BUFFERS;  // a power of two
    unsigned readers = 0, writers = 0;      // open files of each end
    unsigned files = 0;                     // struct files using this pipe (inode refs)
    unsigned r_counter = 1, w_counter = 1;  // opens so far (FIFOs tell readers apart by it)
    bool poll_usage = false;  // someone polled: every write wakes readers (for EPOLLET users)
    std::unique_ptr<page_data> tmp_page;  // one freed page kept for the next write
    wait_queue_head rd_wait{"pipe->rd_wait"}, wr_wait{"pipe->wr_wait"};
    std::vector<pipe_buffer> bufs;
    unsigned long i_ino = 0;  // pipefs inode number: "pipe:[N]"
    u64 bytes_written = 0, bytes_read = 0;  // for the views
};

inline unsigned pipe_occupancy(unsigned head, unsigned tail) { return head - tail; }
inline bool pipe_empty(unsigned head, unsigned tail) { return head == tail; }
inline bool pipe_full(unsigned head, unsigned tail, unsigned limit) { return pipe_occupancy(head, tail) >= limit; }

// The pipe behind a file of either end, or nullptr for any other file (get_pipe_info).
pipe_inode_info* get_pipe_info(file* f);
long pipe_fcntl(file* f, unsigned cmd, unsigned long arg);
// The self-check's view of every pipe on the machine: "" when consistent.
std::string pipe_check(Kernel* k);

}  // namespace gk
