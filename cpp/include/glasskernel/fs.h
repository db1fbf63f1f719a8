// Models include/linux/fs.h and fdtable.h: struct file, file_operations and files_struct.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "glasskernel/types.h"

namespace gk {

struct file;

struct file_operations {
    const char* name;
    // read fills *buf with at most count bytes; both return bytes moved or -errno.
    long (*read)(file* f, std::string* buf, size_t count);
    long (*write)(file* f, const std::string& buf);
    void (*release)(file* f);
};

constexpr unsigned O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_NONBLOCK = 04000, O_CLOEXEC = 02000000;
constexpr int FD_CLOEXEC = 1;

// A struct file is shared by every descriptor that dup() or fork() made from it;
// shared_ptr's count plays f_count.
struct file {
    const file_operations* f_op = nullptr;
    unsigned f_flags = 0;
    void* private_data = nullptr;
    std::string name;
    ~file();
};

struct fdentry {
    std::shared_ptr<file> f;
    bool cloexec = false;
};

struct files_struct {
    int count = 1;  // tasks sharing this table (CLONE_FILES)
    std::vector<fdentry> fdt;
    int next_fd = 0;
};

std::shared_ptr<files_struct> dup_fd(const files_struct* oldf);
int fd_install_lowest(files_struct* files, std::shared_ptr<file> f, bool cloexec, unsigned long nofile);
file* fget(files_struct* files, int fd);
void do_close_on_exec(files_struct* files);
void exit_files(struct task_struct* tsk);

}  // namespace gk
