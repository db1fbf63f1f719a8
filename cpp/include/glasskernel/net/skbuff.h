// Models include/linux/skbuff.h (v6.1): struct sk_buff, a packet with its head/data/tail/end
// pointers (offsets here), the header offsets each layer sets, clones sharing one data area,
// truesize charged to a socket, and sk_buff_head queues.
#pragma once
#include <boost/intrusive/list.hpp>
#include <memory>
#include <string>
#include <vector>

#include "glasskernel/types.h"

namespace gk {

struct sock;
struct net_device;
class Kernel;

enum : u8 { PACKET_HOST = 0, PACKET_BROADCAST = 1, PACKET_MULTICAST = 2, PACKET_OTHERHOST = 3, PACKET_OUTGOING = 4, PACKET_LOOPBACK = 5 };
enum : u8 { CHECKSUM_NONE = 0, CHECKSUM_UNNECESSARY = 1 };

// The data area: head at 0, end at size(). Clones share it (skb_shared_info's dataref is the
// shared_ptr count); a writer that needs its own copy calls skb_copy first.
using skb_data = std::vector<u8>;

struct sk_buff {
    // On an sk_buff_head; freeing a queued buffer takes it off its queue.
    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> list;
    struct sock* sk = nullptr;
    net_device* dev = nullptr;
    u64 tstamp = 0;
    std::shared_ptr<skb_data> head;
    unsigned data = 0, tail = 0, end = 0;  // offsets into head
    unsigned len = 0;                      // tail - data
    unsigned truesize = 0;                 // what the buffer costs its owner's budget
    int mac_header = -1, network_header = -1, transport_header = -1;
    u16 protocol = 0;  // ETH_P_*, host order
    u8 pkt_type = PACKET_HOST;
    u8 ip_summed = CHECKSUM_NONE;
    bool cloned = false;
    void (*destructor)(sk_buff*) = nullptr;
    int skb_iif = 0;
    u64 id = 0;                 // for views: which buffer this is
    u64 arrival = 0;            // on a wire or in a NIC ring: when it may be taken
    Kernel* owner = nullptr;    // the machine that allocated it (live-buffer accounting)
    u32 rt_gateway = 0;         // the route chosen for it (skb_dst): next hop, host order
    u8 rt_type = 0;
    alignas(8) u8 cb[48] = {};  // the control buffer: each layer's private per-packet state (TCP_SKB_CB)
    u8* data_ptr() { return head->data() + data; }
    const u8* data_ptr() const { return head->data() + data; }
};

using sk_buff_list = boost::intrusive::list<
    sk_buff, boost::intrusive::member_hook<sk_buff, decltype(sk_buff::list), &sk_buff::list>,
    boost::intrusive::constant_time_size<false>>;

struct sk_buff_head {
    sk_buff_list q;
    std::string name;
    unsigned qlen() const { return static_cast<unsigned>(q.size()); }
    ~sk_buff_head();
};

sk_buff* alloc_skb(unsigned size);
sk_buff* alloc_skb_on(Kernel* k, unsigned size);
sk_buff* netdev_alloc_skb(net_device* dev, unsigned size);
void kfree_skb_reason(sk_buff* skb, const char* reason);
inline void kfree_skb(sk_buff* skb) { kfree_skb_reason(skb, "NOT_SPECIFIED"); }
void consume_skb(sk_buff* skb);
sk_buff* skb_clone(sk_buff* skb);
sk_buff* skb_copy(const sk_buff* skb);
void skb_reserve(sk_buff* skb, unsigned len);
u8* skb_put(sk_buff* skb, unsigned len);
u8* skb_push(sk_buff* skb, unsigned len);
u8* skb_pull(sk_buff* skb, unsigned len);
void skb_trim(sk_buff* skb, unsigned len);
inline unsigned skb_headroom(const sk_buff* skb) { return skb->data; }
inline unsigned skb_tailroom(const sk_buff* skb) { return skb->end - skb->tail; }
inline void skb_reset_network_header(sk_buff* skb) { skb->network_header = static_cast<int>(skb->data); }
inline void skb_reset_transport_header(sk_buff* skb) { skb->transport_header = static_cast<int>(skb->data); }
inline void skb_reset_mac_header(sk_buff* skb) { skb->mac_header = static_cast<int>(skb->data); }
inline void skb_set_transport_header(sk_buff* skb, int off) { skb->transport_header = static_cast<int>(skb->data) + off; }
inline u8* skb_network_header(sk_buff* skb) { return skb->head->data() + skb->network_header; }
inline u8* skb_transport_header(sk_buff* skb) { return skb->head->data() + skb->transport_header; }
inline u8* skb_mac_header(sk_buff* skb) { return skb->head->data() + skb->mac_header; }
void skb_orphan(sk_buff* skb);

void skb_queue_tail(sk_buff_head* list, sk_buff* skb);
void skb_queue_head(sk_buff_head* list, sk_buff* skb);
sk_buff* skb_dequeue(sk_buff_head* list);
sk_buff* skb_peek(sk_buff_head* list);
void skb_unlink(sk_buff* skb, sk_buff_head* list);
void skb_queue_purge(sk_buff_head* list);

}  // namespace gk
