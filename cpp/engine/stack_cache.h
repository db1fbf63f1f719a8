// The simulator's cache of kernel stacks (Linux keeps freed task stacks in a per-CPU cache too:
// kernel/fork.c's cached_stacks), so fork never pays for mmap + mprotect.
#pragma once
#include <boost/context/stack_context.hpp>
#include <cstddef>
#include <vector>

namespace gk {

constexpr unsigned long STACK_END_MAGIC = 0x57AC6E9D;

class stack_cache {
public:
    stack_cache(size_t size, bool guard);
    ~stack_cache();
    boost::context::stack_context allocate();
    void deallocate(boost::context::stack_context& sctx) noexcept;
    unsigned long* end_of_stack(const boost::context::stack_context& sctx) const;
    size_t live() const { return live_; }
    boost::context::stack_context last;  // the stack handed out most recently

private:
    void release(boost::context::stack_context& sctx) noexcept;
    size_t size_;
    bool guard_;
    size_t live_ = 0;
    size_t max_cached_ = 4096;
    std::vector<boost::context::stack_context> free_;
};

}  // namespace gk
