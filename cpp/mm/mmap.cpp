// Models mm/mmap.c's bookkeeping of VMAs (v6.1): find_vma and insert_vm_struct. mmap/munmap/brk
// and merging come with the memory lessons; today every address space has one VMA, the stack.
#include <algorithm>

#include "glasskernel/linux.h"

namespace gk {

// The first VMA that ends above addr (it may start above addr too), or nullptr.
vm_area_struct* find_vma(mm_struct* mm, unsigned long addr) {
    auto it = mm->mm_mt.upper_bound(addr);
    return it == mm->mm_mt.end() ? nullptr : &it->second;
}

int insert_vm_struct(mm_struct* mm, unsigned long start, unsigned long end, unsigned long flags) {
    if (start >= end || (start & ~PAGE_MASK) || (end & ~PAGE_MASK) || end > TASK_SIZE_MAX) return -EINVAL;
    vm_area_struct* next = find_vma(mm, start);
    if (next && next->vm_start < end) return -ENOMEM;  // overlaps an existing mapping
    vm_area_struct& vma = mm->mm_mt[end];
    vma.vm_start = start;
    vma.vm_end = end;
    vma.vm_flags = flags;
    vma.vm_mm = mm;
    mm->total_vm += (end - start) >> PAGE_SHIFT;
    return 0;
}

// arch_get_unmapped_area_topdown: the highest gap of len bytes below mmap_base.
long get_unmapped_area(mm_struct* mm, unsigned long len) {
    len = (len + PAGE_SIZE - 1) & PAGE_MASK;
    unsigned long end = mm->mmap_base;
    for (auto it = mm->mm_mt.rbegin(); it != mm->mm_mt.rend(); ++it) {
        const vm_area_struct& v = it->second;
        if (v.vm_start >= end) continue;
        if (v.vm_end <= end && end - v.vm_end >= len) return static_cast<long>(end - len);
        end = std::min(end, v.vm_start);
    }
    if (end >= len + PAGE_SIZE) return static_cast<long>(end - len);
    return -ENOMEM;
}

// Unmaps whole VMAs inside [start, start + len) and forgets their pages (splitting a VMA comes
// with the memory lessons).
int do_munmap(mm_struct* mm, unsigned long start, unsigned long len) {
    if ((start & ~PAGE_MASK) || len == 0 || start > TASK_SIZE_MAX || len > TASK_SIZE_MAX - start) return -EINVAL;
    unsigned long end = start + ((len + PAGE_SIZE - 1) & PAGE_MASK);
    for (auto it = mm->mm_mt.upper_bound(start); it != mm->mm_mt.end() && it->second.vm_start < end;) {
        vm_area_struct& v = it->second;
        if (v.vm_start < start || v.vm_end > end) {
            ++it;
            continue;
        }
        for (unsigned long a = v.vm_start; a < v.vm_end; a += PAGE_SIZE) mm->pages.erase(a >> PAGE_SHIFT);
        mm->total_vm -= (v.vm_end - v.vm_start) >> PAGE_SHIFT;
        it = mm->mm_mt.erase(it);
    }
    return 0;
}

}  // namespace gk
