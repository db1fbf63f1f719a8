// The simulator's Python binding. Views of the file layer's objects: pipes (pipe_inode_info with
// its ring of pipe_buffers and its two wait queues), as snapshots with Linux's field names.
#include "bindings/views.h"
#include "glasskernel/pipe_fs_i.h"

namespace gk {

py::object wait_entry_object(const std::shared_ptr<Kernel>& k, const wait_queue_entry& e);

struct PipeBufferView {
    unsigned slot, offset, len, flags;
    py::bytes data;
};

struct PipeView {
    unsigned long ino;
    unsigned readers, writers, head, tail, ring_size, max_usage;
    u64 bytes_written, bytes_read;
    bool poll_usage, tmp_page;
    py::list bufs, rd_wait, wr_wait;
    unsigned occupancy() const { return head - tail; }
};

static PipeView pipe_view(const std::shared_ptr<Kernel>& k, const pipe_inode_info* p) {
    PipeView v{p->i_ino, p->readers, p->writers, p->head, p->tail, p->ring_size, p->max_usage,
               p->bytes_written, p->bytes_read, p->poll_usage, p->tmp_page != nullptr, py::list(), py::list(), py::list()};
    unsigned mask = p->ring_size - 1;
    for (unsigned i = p->tail; i != p->head; i++) {
        const pipe_buffer& b = p->bufs[i & mask];
        v.bufs.append(PipeBufferView{i & mask, b.offset, b.len, b.flags,
                                     py::bytes(reinterpret_cast<const char*>(b.page->bytes + b.offset), b.len)});
    }
    for (auto& e : p->rd_wait.head) v.rd_wait.append(wait_entry_object(k, e));
    for (auto& e : p->wr_wait.head) v.wr_wait.append(wait_entry_object(k, e));
    return v;
}

static std::string buf_flag_names(unsigned f) {
    static const std::pair<unsigned, const char*> names[] = {
        {PIPE_BUF_FLAG_LRU, "LRU"}, {PIPE_BUF_FLAG_ATOMIC, "ATOMIC"}, {PIPE_BUF_FLAG_GIFT, "GIFT"},
        {PIPE_BUF_FLAG_PACKET, "PACKET"}, {PIPE_BUF_FLAG_CAN_MERGE, "CAN_MERGE"}};
    std::string out;
    for (auto& [bit, name] : names)
        if (f & bit) out += std::string(out.empty() ? "" : "|") + "PIPE_BUF_FLAG_" + name;
    return out.empty() ? "0" : out;
}

void bind_fs(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls) {
    view_class<PipeBufferView>(m, "PipeBuffer", "One occupied slot of a pipe's ring (struct pipe_buffer): a page and the bytes of it not yet read.")
        .member("slot", &PipeBufferView::slot, "index in pipe->bufs")
        .member("offset", &PipeBufferView::offset, "where the unread bytes start in the page")
        .member("len", &PipeBufferView::len, "how many bytes are unread")
        .field("flags", [](const PipeBufferView& b) { return buf_flag_names(b.flags); }, "PIPE_BUF_FLAG_*")
        .member("data", &PipeBufferView::data, "the unread bytes")
        .repr({"slot", "offset", "len", "flags"});
    view_class<PipeView>(m, "Pipe", "A snapshot of a pipe (struct pipe_inode_info, fs/pipe.c): the ring between tail and head, and who waits on it.")
        .member("ino", &PipeView::ino, "the pipefs inode number: the N of pipe:[N]")
        .member("readers", &PipeView::readers, "open files of the read end")
        .member("writers", &PipeView::writers, "open files of the write end")
        .member("head", &PipeView::head, "where the next write goes (free-running)")
        .member("tail", &PipeView::tail, "where the next read takes from (free-running)")
        .field("occupancy", &PipeView::occupancy, "slots holding data: head - tail")
        .member("ring_size", &PipeView::ring_size, "slots in the ring (a power of two)")
        .member("max_usage", &PipeView::max_usage, "slots writers may fill: F_GETPIPE_SZ / PAGE_SIZE")
        .member("bufs", &PipeView::bufs, "the occupied slots, oldest first")
        .member("rd_wait", &PipeView::rd_wait, "entries on pipe->rd_wait: readers sleeping in pipe_read, pollers")
        .member("wr_wait", &PipeView::wr_wait, "entries on pipe->wr_wait: writers sleeping in pipe_write, pollers")
        .member("poll_usage", &PipeView::poll_usage, "someone has polled it: every write wakes the readers")
        .member("tmp_page", &PipeView::tmp_page, "a freed page kept for the next write")
        .member("bytes_written", &PipeView::bytes_written)
        .member("bytes_read", &PipeView::bytes_read)
        .repr({"ino", "readers", "writers", "occupancy"});

    cls.def("_pipes", [](std::shared_ptr<Kernel> k) {
           py::list out;
           for (auto& [ino, p] : k->pipes) out.append(pipe_view(k, p));
           return out;
       })
        .def("_pipe_of_fd", [](std::shared_ptr<Kernel> k, int pid, int fd) {
            task_struct* t = find_task_by_vpid_in(k.get(), pid);
            if (!t || !t->files) throw py::value_error("no process " + std::to_string(pid));
            std::shared_ptr<file> f = fd < 0 ? nullptr : fget(t->files.get(), static_cast<unsigned>(fd));
            if (!f) throw py::value_error("pid " + std::to_string(pid) + " has no fd " + std::to_string(fd));
            pipe_inode_info* p = get_pipe_info(f.get());
            if (!p) throw py::value_error("fd " + std::to_string(fd) + " of pid " + std::to_string(pid) + " is not a pipe (it is " + f->name + ")");
            return pipe_view(k, p);
        });
}

}  // namespace gk
