// Models include/linux/percpu-defs.h (v6.1): DEFINE_PER_CPU gives every CPU its own copy of a
// variable, per_cpu() names one CPU's copy and this_cpu_ptr()/this_cpu_read() the running CPU's.
// Linux lays the copies out in per-CPU areas that setup_per_cpu_areas() allocates at boot; here
// each machine (Kernel) owns its areas, so two simulated hosts never share one.
#pragma once
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "glasskernel/types.h"

namespace gk {

struct task_struct;
std::string percpu_show_task(const task_struct* t);

// What every per-CPU variable offers the inspection views: its name and one CPU's value.
struct percpu_var_base {
    const char* name;
    explicit percpu_var_base(const char* n) : name(n) {}
    virtual ~percpu_var_base() = default;
    virtual void setup(int nr_cpus) = 0;
    // The value as a number when it is one (counters, masks, flags).
    virtual bool as_long(int cpu, long* out) const = 0;
    virtual std::string show(int cpu) const = 0;
};

template <typename T>
class per_cpu_var final : public percpu_var_base {
public:
    per_cpu_var(std::vector<percpu_var_base*>& registry, const char* n) : percpu_var_base(n) { registry.push_back(this); }
    per_cpu_var(const per_cpu_var&) = delete;
    per_cpu_var& operator=(const per_cpu_var&) = delete;

    // setup_per_cpu_areas: one default-constructed copy per possible CPU, never moved after.
    void setup(int nr_cpus) override {
        area_ = std::make_unique<T[]>(static_cast<size_t>(nr_cpus));
        nr_ = nr_cpus;
    }
    T& operator[](int cpu) { return area_[static_cast<size_t>(cpu)]; }
    const T& operator[](int cpu) const { return area_[static_cast<size_t>(cpu)]; }
    int nr_cpus() const { return nr_; }
    T* begin() { return area_.get(); }
    T* end() { return area_.get() + nr_; }

    bool as_long(int cpu, long* out) const override {
        if constexpr (std::is_integral_v<T>) {
            *out = static_cast<long>((*this)[cpu]);
            return true;
        } else {
            (void)cpu;
            (void)out;
            return false;
        }
    }
    std::string show(int cpu) const override {
        const T& v = (*this)[cpu];
        if constexpr (std::is_integral_v<T>) return std::to_string(v);
        else if constexpr (std::is_same_v<T, task_struct*>) return percpu_show_task(v);
        else if constexpr (std::is_pointer_v<T>) return v ? "<set>" : "NULL";
        else return "<struct>";
    }

private:
    std::unique_ptr<T[]> area_;
    int nr_ = 0;
};

// Inside class Kernel, after its `percpu_vars` registry.
#define DEFINE_PER_CPU(type, name) ::gk::per_cpu_var<type> name{percpu_vars, #name}
#define per_cpu(var, cpu) ((var)[cpu])
#define per_cpu_ptr(var, cpu) (&(var)[cpu])
#define this_cpu_ptr(var) (&(var)[::gk::this_kernel->this_cpu])
#define this_cpu_read(var) ((var)[::gk::this_kernel->this_cpu])
#define this_cpu_write(var, val) ((var)[::gk::this_kernel->this_cpu] = (val))
#define __this_cpu_read(var) this_cpu_read(var)
#define __this_cpu_write(var, val) this_cpu_write(var, val)

}  // namespace gk
