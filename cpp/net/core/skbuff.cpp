// Models net/core/skbuff.c (v6.1): allocating and freeing sk_buffs, moving data/tail within the
// buffer (reserve, put, push, pull), clones that share the data area and copies that do not, and
// the sk_buff_head queue operations. Every machine counts its live buffers for the self-check.
#include <cstring>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

// What a buffer costs its owner: the data area plus the sk_buff itself (SKB_TRUESIZE).
static constexpr unsigned SKB_OVERHEAD = 256;

sk_buff* alloc_skb(unsigned size) { return alloc_skb_on(this_kernel, size); }

// A NIC fills buffers of its own machine, even when the frame came off another machine's wire.
sk_buff* alloc_skb_on(Kernel* k, unsigned size) {
    net* n = kernel_net(k);
    auto* skb = new sk_buff();
    skb->head = std::make_shared<skb_data>(size);
    skb->end = size;
    skb->truesize = size + SKB_OVERHEAD;
    skb->owner = k;
    skb->id = n->next_skb_id++;
    skb->tstamp = ktime_get();
    n->live_skbs++;
    return skb;
}

// Room for the link-layer header in front, as drivers reserve NET_SKB_PAD + NET_IP_ALIGN.
sk_buff* netdev_alloc_skb(net_device* dev, unsigned size) {
    sk_buff* skb = alloc_skb(size + 32);
    skb_reserve(skb, 32);
    skb->dev = dev;
    return skb;
}

void skb_orphan(sk_buff* skb) {
    if (skb->destructor) skb->destructor(skb);
    skb->destructor = nullptr;
    skb->sk = nullptr;
}

static void __kfree_skb(sk_buff* skb) {
    if (skb->list.is_linked()) skb->list.unlink();
    skb_orphan(skb);
    if (skb->owner) kernel_net(skb->owner)->live_skbs--;
    delete skb;
}

void kfree_skb_reason(sk_buff* skb, const char* reason) {
    if (!skb) return;
    trace_point("kfree_skb", "skbaddr=%llu protocol=%u reason: %s", static_cast<unsigned long long>(skb->id), skb->protocol, reason);
    __kfree_skb(skb);
}

void consume_skb(sk_buff* skb) {
    if (!skb) return;
    trace_point("consume_skb", "skbaddr=%llu", static_cast<unsigned long long>(skb->id));
    __kfree_skb(skb);
}

// __copy_skb_header: offsets and metadata, the same for a clone and a copy.
static void copy_skb_header(sk_buff* c, const sk_buff* skb) {
    c->data = skb->data;
    c->tail = skb->tail;
    c->len = skb->len;
    c->mac_header = skb->mac_header;
    c->network_header = skb->network_header;
    c->transport_header = skb->transport_header;
    c->protocol = skb->protocol;
    c->pkt_type = skb->pkt_type;
    c->ip_summed = skb->ip_summed;
    c->dev = skb->dev;
    c->tstamp = skb->tstamp;
    c->skb_iif = skb->skb_iif;
    c->rt_gateway = skb->rt_gateway;
    c->rt_type = skb->rt_type;
    std::memcpy(c->cb, skb->cb, sizeof c->cb);
}

// A clone shares the data area (raw sockets and captures see the same bytes).
sk_buff* skb_clone(sk_buff* skb) {
    sk_buff* c = alloc_skb(0);
    c->head = skb->head;
    c->end = skb->end;
    c->truesize = skb->truesize;
    copy_skb_header(c, skb);
    c->cloned = skb->cloned = true;
    return c;
}

sk_buff* skb_copy(const sk_buff* skb) {
    sk_buff* c = alloc_skb(skb->end);
    *c->head = *skb->head;
    copy_skb_header(c, skb);
    return c;
}

void skb_reserve(sk_buff* skb, unsigned len) {
    skb->data += len;
    skb->tail += len;
}

u8* skb_put(sk_buff* skb, unsigned len) {
    if (skb->tail + len > skb->end) {
        // skb_over_panic in Linux; the model grows the area instead of crashing the kernel.
        skb->head->resize(skb->tail + len);
        skb->end = skb->tail + len;
    }
    u8* p = skb->head->data() + skb->tail;
    skb->tail += len;
    skb->len += len;
    return p;
}

u8* skb_push(sk_buff* skb, unsigned len) {
    if (len > skb->data) {
        // skb_under_panic: grow the headroom (pskb_expand_head) rather than die.
        unsigned more = len - skb->data + 32;
        skb->head->insert(skb->head->begin(), more, 0);
        skb->data += more;
        skb->tail += more;
        skb->end += more;
        if (skb->mac_header >= 0) skb->mac_header += static_cast<int>(more);
        if (skb->network_header >= 0) skb->network_header += static_cast<int>(more);
        if (skb->transport_header >= 0) skb->transport_header += static_cast<int>(more);
    }
    skb->data -= len;
    skb->len += len;
    return skb->head->data() + skb->data;
}

u8* skb_pull(sk_buff* skb, unsigned len) {
    if (len > skb->len) return nullptr;
    skb->data += len;
    skb->len -= len;
    return skb->head->data() + skb->data;
}

void skb_trim(sk_buff* skb, unsigned len) {
    if (len >= skb->len) return;
    skb->len = len;
    skb->tail = skb->data + len;
}

void skb_queue_tail(sk_buff_head* list, sk_buff* skb) { list->q.push_back(*skb); }
void skb_queue_head(sk_buff_head* list, sk_buff* skb) { list->q.push_front(*skb); }

sk_buff* skb_peek(sk_buff_head* list) { return list->q.empty() ? nullptr : &list->q.front(); }

sk_buff* skb_dequeue(sk_buff_head* list) {
    if (list->q.empty()) return nullptr;
    sk_buff* skb = &list->q.front();
    list->q.pop_front();
    return skb;
}

void skb_unlink(sk_buff* skb, sk_buff_head* list) { list->q.erase(list->q.iterator_to(*skb)); }

void skb_queue_purge(sk_buff_head* list) {
    while (sk_buff* skb = skb_dequeue(list)) kfree_skb_reason(skb, "QUEUE_PURGE");
}

// A queue that dies with buffers on it frees them (teardown of a machine).
sk_buff_head::~sk_buff_head() {
    while (!q.empty()) {
        sk_buff* skb = &q.front();
        q.pop_front();
        skb->destructor = nullptr;  // their socks are being torn down too
        skb->sk = nullptr;
        skb->owner = nullptr;
        delete skb;
    }
}

}  // namespace gk
