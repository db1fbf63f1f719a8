// Models fs/exec.c, fs/binfmt_elf.c and fs/binfmt_misc.c (v6.1): do_execveat_common ->
// bprm_execve -> exec_binprm -> search_binary_handler -> load_*_binary -> begin_new_exec.
// Built-in C++ programs load through binfmt_elf; Python programs through binfmt_misc, as Linux
// runs interpreted programs.
#include "glasskernel/linux.h"

namespace gk {

struct linux_binprm {
    std::string filename;
    std::vector<std::string> argv, envp;
    const program* prog = nullptr;
    std::shared_ptr<mm_struct> mm;        // the new address space
    std::unique_ptr<user_image> image;   // the program it will run
};

// __bprm_mm_init: the new address space starts with its stack, 8 MiB (RLIMIT_STACK) below
// STACK_TOP, growing down.
static int bprm_mm_init(linux_binprm* bprm) {
    bprm->mm = mm_alloc();
    unsigned long size = task_rlimit(current, RLIMIT_STACK);
    if (size > (1UL << 30) || size < PAGE_SIZE) size = 8UL << 20;
    size &= PAGE_MASK;
    int err = insert_vm_struct(bprm->mm.get(), STACK_TOP - size, STACK_TOP, VM_READ | VM_WRITE | VM_GROWSDOWN);
    if (err) return err;
    bprm->mm->start_stack = STACK_TOP;
    return 0;
}

static void exec_mmap(std::shared_ptr<mm_struct> mm) {
    trace_scope ts("exec_mmap");
    task_struct* tsk = current;
    std::shared_ptr<mm_struct> old = std::move(tsk->mm);
    tsk->mm = std::move(mm);
    exec_mm_release(tsk, old.get());  // a vfork parent continues now
}

// Everything of the old program that must not survive into the new one.
static int begin_new_exec(linux_binprm* bprm) {
    trace_scope ts("begin_new_exec");
    task_struct* me = current;
    exec_mmap(std::move(bprm->mm));
    // The old program's user-mode state may hold Python objects: freed on the host stack.
    if (me->thread.image) this_kernel->deferred_images.push_back(std::move(me->thread.image));
    me->thread.image = std::move(bprm->image);
    me->flags &= ~(PF_FORKNOEXEC | PF_KTHREAD);
    flush_signal_handlers(me, false);  // caught signals go back to SIG_DFL; ignored stay ignored
    if (me->files) do_close_on_exec(me->files.get());
    std::string base = bprm->filename.substr(bprm->filename.rfind('/') + 1);
    me->comm = base.substr(0, 15);  // TASK_COMM_LEN - 1
    me->argv = bprm->argv;
    me->thread.ax = 0;
    // start_thread: user mode begins afresh, with user segments and interrupts enabled.
    me->thread.pt = pt_regs();
    me->thread.pt.cs = __USER_CS;
    me->thread.pt.ss = __USER_DS;
    me->thread.pt.flags = X86_EFLAGS_FIXED | X86_EFLAGS_IF;
    me->thread.pt.sp = me->mm->start_stack;
    me->thread.compute_left = 0;
    me->thread.sigframes.clear();  // the old user stack is gone
    me->restart_block = restart_block();
    return ts.ret(0);
}

// What a handler does once the file is its kind: the simulator's loader builds the program's
// user image (where Linux maps the ELF segments, or starts the interpreter binfmt_misc names),
// then the point of no return.
static int load_image(linux_binprm* bprm) {
    bprm->image = bprm->prog->load(bprm->argv, bprm->envp);
    if (!bprm->image) return -ENOEXEC;
    bprm->mm->exe_file = bprm->filename;
    this_kernel->charge(this_kernel->costs.exec);
    return begin_new_exec(bprm);
}

// binfmt_elf: the built-in C++ programs.
static int load_elf_binary(linux_binprm* bprm) {
    trace_scope ts("load_elf_binary", "filename=%s", bprm->filename.c_str());
    if (bprm->prog->kind != "builtin") return ts.ret(-ENOEXEC);
    return ts.ret(load_image(bprm));
}

// binfmt_misc: Python programs, as Linux hands interpreted programs to their interpreter.
static int load_misc_binary(linux_binprm* bprm) {
    trace_scope ts("load_misc_binary", "filename=%s", bprm->filename.c_str());
    if (bprm->prog->kind != "python") return ts.ret(-ENOEXEC);
    return ts.ret(load_image(bprm));
}

struct linux_binfmt {
    int (*load_binary)(linux_binprm* bprm);
};
static const linux_binfmt elf_format = {.load_binary = load_elf_binary};
static const linux_binfmt misc_format = {.load_binary = load_misc_binary};
static const linux_binfmt* const formats[] = {&elf_format, &misc_format};  // register_binfmt's list

// Each registered format in turn, until one recognises the file (anything but -ENOEXEC).
static int search_binary_handler(linux_binprm* bprm) {
    trace_scope ts("search_binary_handler");
    int retval = -ENOEXEC;
    for (const linux_binfmt* fmt : formats) {
        retval = fmt->load_binary(bprm);
        if (retval != -ENOEXEC) break;
    }
    return ts.ret(retval);
}

static int exec_binprm(linux_binprm* bprm) {
    trace_scope ts("exec_binprm");
    pid_t old_pid = current->pid;
    int ret = search_binary_handler(bprm);
    if (ret < 0) return ts.ret(ret);
    trace_point("sched_process_exec", "filename=%s pid=%d old_pid=%d", bprm->filename.c_str(), current->pid, old_pid);
    return ts.ret(ret);
}

static int bprm_execve(linux_binprm* bprm) {
    trace_scope ts("bprm_execve", "filename=%s", bprm->filename.c_str());
    Kernel* k = this_kernel;
    auto it = k->programs.find(bprm->filename);
    if (it == k->programs.end()) return ts.ret(-ENOENT);  // do_open_execat finds no file
    bprm->prog = &it->second;
    return ts.ret(exec_binprm(bprm));
}

// count(): how many pointers an argv or envp array in user memory holds before its NULL.
static int count(const char __user* const __user* argv, int max) {
    if (!argv) return 0;  // a NULL array is an empty one
    for (int i = 0;; i++) {
        unsigned long p;
        if (get_user(p, reinterpret_cast<const unsigned long __user*>(argv + i))) return -EFAULT;
        if (!p) return i;
        if (i >= max) return -E2BIG;
    }
}

// copy_strings(): the strings themselves, into the new program's arguments.
static int copy_strings(int argc, const char __user* const __user* argv, std::vector<std::string>* out) {
    for (int i = 0; i < argc; i++) {
        unsigned long p;
        if (get_user(p, reinterpret_cast<const unsigned long __user*>(argv + i))) return -EFAULT;
        const char __user* str = reinterpret_cast<const char __user*>(p);
        long len = strnlen_user(str, MAX_ARG_STRLEN);
        if (!len) return -EFAULT;
        if (len > MAX_ARG_STRLEN) return -E2BIG;
        std::string s(static_cast<size_t>(len - 1), '\0');
        if (copy_from_user(s.data(), str, static_cast<unsigned long>(len - 1))) return -EFAULT;
        out->push_back(std::move(s));
    }
    return 0;
}

// getname(): the path from user memory; empty is ENOENT, longer than PATH_MAX ENAMETOOLONG.
static long getname(const char __user* filename, std::string* out) {
    std::string buf(PATH_MAX, '\0');
    long len = strncpy_from_user(buf.data(), filename, PATH_MAX);
    if (len < 0) return len;
    if (len == PATH_MAX) return -ENAMETOOLONG;
    if (len == 0) return -ENOENT;
    buf.resize(static_cast<size_t>(len));
    *out = std::move(buf);
    return 0;
}

static long do_execveat_common(linux_binprm* bprm) {
    trace_scope ts("do_execveat_common", "filename=%s", bprm->filename.c_str());
    // Since Linux 5.18 an empty argv gets "" as argv[0], so programs can rely on argc >= 1.
    if (bprm->argv.empty()) bprm->argv.push_back("");
    long err = bprm_mm_init(bprm);
    if (err) return ts.ret(err);
    return ts.ret(bprm_execve(bprm));
}

long kernel_execve(const std::string& filename, const std::vector<std::string>& argv,
                   const std::vector<std::string>& envp) {
    trace_scope ts("kernel_execve", "filename=%s", filename.c_str());
    linux_binprm bprm;
    bprm.filename = filename;
    bprm.argv = argv;
    bprm.envp = envp;
    return ts.ret(do_execveat_common(&bprm));
}

}  // namespace gk

// ---- system calls ----
#include "glasskernel/syscalls.h"

namespace gk {

// Linux checks the name, counts argv and envp, copies envp's strings then argv's, and only then
// looks the file up: a bad argv pointer is EFAULT even for a file that does not exist.
SYSCALL_DEFINE3(execve, const char __user *, filename, const char __user *const __user *, argv,
                const char __user *const __user *, envp) {
    linux_binprm bprm;
    long err = getname(filename, &bprm.filename);
    if (err) return err;
    int argc = count(argv, MAX_ARG_STRINGS);
    if (argc < 0) return argc;
    int envc = count(envp, MAX_ARG_STRINGS);
    if (envc < 0) return envc;
    err = copy_strings(envc, envp, &bprm.envp);
    if (!err) err = copy_strings(argc, argv, &bprm.argv);
    if (err) return err;
    return do_execveat_common(&bprm);
}

}  // namespace gk
