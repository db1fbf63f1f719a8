// Models net/netfilter/core.c (v6.1): NF_HOOK runs the hooks registered at one of IPv4's five points in
// priority order; any NF_DROP frees the packet (the caller sees -EPERM), and the packet goes on
// to okfn only if every hook accepts it. With no hook registered, okfn is called directly.
#include <algorithm>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

const char* const nf_hook_names[NF_INET_NUMHOOKS] = {"NF_INET_PRE_ROUTING", "NF_INET_LOCAL_IN", "NF_INET_FORWARD",
                                                     "NF_INET_LOCAL_OUT", "NF_INET_POST_ROUTING"};

static int nf_hook_slow(sk_buff* skb, const nf_hook_state* state, const nf_hook_entries& e) {
    trace_scope ts("nf_hook_slow", "hook=%s", nf_hook_names[state->hook]);
    for (const auto& ops : e) {
        unsigned verdict = ops->hook(ops->priv, skb, state);
        if (verdict == NF_DROP) {
            ops->dropped++;
            kfree_skb_reason(skb, "NETFILTER_DROP");
            return ts.ret(-EPERM);
        }
        ops->accepted++;
    }
    return ts.ret(1);
}

// The model inlines nf_hook() (include/linux/netfilter.h) into NF_HOOK, as Linux inlines both.
int NF_HOOK(int hook, sk_buff* skb, net_device* in, net_device* out, int (*okfn)(sk_buff*)) {
    trace_scope ts("NF_HOOK", "hook=%s", nf_hook_names[hook]);
    net_device* dev = in ? in : out;
    net* n = kernel_net(dev ? dev->kernel : this_kernel);
    std::shared_ptr<const nf_hook_entries> e = n->nf_hooks[hook];  // rcu_dereference
    if (e && !e->empty()) {
        nf_hook_state state{hook, in, out, n, okfn};
        int r = nf_hook_slow(skb, &state, *e);
        if (r != 1) return ts.ret(r);
    }
    return ts.ret(okfn(skb));
}

int nf_register_net_hook(net* n, std::shared_ptr<nf_hook_ops> ops) {
    trace_scope ts("nf_register_net_hook", "hook=%d priority=%d", ops->hooknum, ops->priority);
    if (ops->hooknum < 0 || ops->hooknum >= NF_INET_NUMHOOKS || !ops->hook) return ts.ret(-EINVAL);
    int hooknum = ops->hooknum;
    auto next = std::make_shared<nf_hook_entries>(n->nf_hooks[hooknum] ? *n->nf_hooks[hooknum] : nf_hook_entries{});
    auto pos = std::find_if(next->begin(), next->end(), [&](const std::shared_ptr<nf_hook_ops>& o) { return o->priority > ops->priority; });
    next->insert(pos, std::move(ops));
    n->nf_hooks[hooknum] = std::move(next);
    return ts.ret(0);
}

int nf_unregister_net_hook(net* n, const nf_hook_ops* ops) {
    trace_scope ts("nf_unregister_net_hook", "hook=%d", ops->hooknum);
    const auto& cur = n->nf_hooks[ops->hooknum];
    if (!cur) return ts.ret(-ENOENT);
    auto next = std::make_shared<nf_hook_entries>(*cur);
    auto it = std::find_if(next->begin(), next->end(), [&](const std::shared_ptr<nf_hook_ops>& o) { return o.get() == ops; });
    if (it == next->end()) return ts.ret(-ENOENT);  // Linux WARNs: "hook not found"
    next->erase(it);
    n->nf_hooks[ops->hooknum] = std::move(next);
    return ts.ret(0);
}

}  // namespace gk
