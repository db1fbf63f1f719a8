// Models mm/memory.c (v6.1) in its simplest form, for an access to user memory: an address inside
// a VMA that allows the access reaches its page, which comes into being zero-filled on first touch
// (do_anonymous_page); anything else is a fault the caller reports.
#include <cstring>

#include "glasskernel/linux.h"

namespace gk {

unsigned long access_user_memory(mm_struct* mm, unsigned long addr, void* buf, unsigned long n, bool write) {
    u8* p = static_cast<u8*>(buf);
    while (n) {
        if (!mm || addr >= TASK_SIZE_MAX) return n;
        vm_area_struct* vma = find_vma(mm, addr);
        if (!vma || vma->vm_start > addr || !(vma->vm_flags & (write ? VM_WRITE : VM_READ))) return n;
        unsigned long offset = addr & ~PAGE_MASK;
        unsigned long chunk = std::min(n, PAGE_SIZE - offset);
        unsigned long vpn = addr >> PAGE_SHIFT;
        auto it = mm->pages.find(vpn);
        page_data* page = it == mm->pages.end() ? nullptr : it->second.get();
        if (!page && !write) {
            std::memset(p, 0, chunk);  // an untouched page reads as zeros
        } else {
            if (!page) page = (mm->pages[vpn] = std::make_unique<page_data>()).get();
            if (write)
                std::memcpy(page->bytes + offset, p, chunk);
            else
                std::memcpy(p, page->bytes + offset, chunk);
        }
        p += chunk;
        addr += chunk;
        n -= chunk;
    }
    return 0;
}

}  // namespace gk
