// Models net/core/net_namespace.c (v6.1) and the initcalls that fill its init_net at boot:
// softnet_data and the two network softirqs (net_dev_init), the loopback device, then inet_init.
#include "glasskernel/linux.h"
#include "glasskernel/net/tcp.h"

namespace gk {

net_device* loopback_dev_init(Kernel* k);

void net_ns_init(Kernel* k) {
    k->init_net = std::make_unique<net>();
    k->init_net->kernel = k;
    net_dev_init(k);
    loopback_dev_init(k);
    inet_init(k);
}

}  // namespace gk
