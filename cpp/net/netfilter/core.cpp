// Models net/netfilter/core.c: NF_HOOK runs the hooks registered at one of IPv4's five points in
// priority order; any NF_DROP frees the packet (the caller sees -EPERM), and the packet goes on
// to okfn only if every hook accepts it. With no hook registered, okfn is called directly.
#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

const char* const nf_hook_names[NF_INET_NUMHOOKS] = {"NF_INET_PRE_ROUTING", "NF_INET_LOCAL_IN", "NF_INET_FORWARD",
                                                     "NF_INET_LOCAL_OUT", "NF_INET_POST_ROUTING"};

static int nf_hook_slow(net* n, int hook, sk_buff* skb, net_device* in, net_device* out) {
    trace_scope ts("nf_hook_slow", "hook=%s", nf_hook_names[hook]);
    for (auto& ops : n->nf_hooks[hook]) {
        unsigned verdict = ops->hook(skb, in, out);
        if (verdict == NF_DROP) {
            ops->dropped++;
            kfree_skb_reason(skb, "NETFILTER_DROP");
            return ts.ret(-EPERM);
        }
        ops->accepted++;
    }
    return ts.ret(1);
}

int NF_HOOK(int hook, sk_buff* skb, net_device* in, net_device* out, int (*okfn)(sk_buff*)) {
    net_device* dev = in ? in : out;
    net* n = kernel_net(dev ? dev->kernel : this_kernel);
    if (!n->nf_hooks[hook].empty()) {
        int r = nf_hook_slow(n, hook, skb, in, out);
        if (r != 1) return r;
    }
    return okfn(skb);
}

}  // namespace gk
