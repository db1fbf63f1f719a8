// Models include/linux/mm_types.h (v6.1): struct mm_struct (a process's address space) and
// vm_area_struct. Pages come into being zero-filled when first touched; there are no page tables or
// page frames yet, so the address space keeps each touched page's contents itself.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "glasskernel/types.h"

namespace gk {

constexpr unsigned long PAGE_SHIFT = 12;
constexpr unsigned long PAGE_SIZE = 1UL << PAGE_SHIFT;
constexpr unsigned long PAGE_MASK = ~(PAGE_SIZE - 1);

// The top of user space on x86_64 with 4-level paging (arch/x86/include/asm/page_64_types.h),
// and where the stack starts: exec puts it right below (no randomization, for determinism).
constexpr unsigned long TASK_SIZE_MAX = (1UL << 47) - PAGE_SIZE;
constexpr unsigned long STACK_TOP = TASK_SIZE_MAX;

// vm_flags (include/linux/mm.h).
enum : unsigned long {
    VM_READ = 0x1,
    VM_WRITE = 0x2,
    VM_EXEC = 0x4,
    VM_SHARED = 0x8,
    VM_GROWSDOWN = 0x100,
};

struct mm_struct;

struct vm_area_struct {
    unsigned long vm_start = 0;  // first address
    unsigned long vm_end = 0;    // first address after
    unsigned long vm_flags = 0;
    mm_struct* vm_mm = nullptr;
};

// The contents of one touched page.
struct page_data {
    u8 bytes[PAGE_SIZE] = {};
};

struct mm_struct {
    // The VMAs, keyed by vm_end so that find_vma() is one lower_bound (Linux 6.1: a maple tree).
    std::map<unsigned long, vm_area_struct> mm_mt;
    // Touched pages by virtual page number; an untouched page of a VMA reads as zeros.
    std::unordered_map<unsigned long, std::unique_ptr<page_data>> pages;
    unsigned long start_stack = 0;
    // Where mmap looks for room, top-down: below the stack and its 128 MiB gap (mmap_base()
    // without randomization).
    unsigned long mmap_base = STACK_TOP - (128UL << 20);
    unsigned long total_vm = 0;  // pages mapped
    std::string exe_file;
};

// kernel/fork.c
std::shared_ptr<mm_struct> mm_alloc();
// mm/mmap.c
vm_area_struct* find_vma(mm_struct* mm, unsigned long addr);
int insert_vm_struct(mm_struct* mm, unsigned long start, unsigned long end, unsigned long flags);
long get_unmapped_area(mm_struct* mm, unsigned long len);  // an address, or -ENOMEM
int do_munmap(mm_struct* mm, unsigned long start, unsigned long len);
// mm/memory.c
// Copy to or from an address space (copy_to_user and friends for the current task, and user
// mode's own loads and stores); returns the number of bytes that could not be copied.
unsigned long access_user_memory(mm_struct* mm, unsigned long addr, void* buf, unsigned long n, bool write);

}  // namespace gk
