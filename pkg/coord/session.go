package coord

import "time"

// MasterSessionTimeout is the session timeout masters ask for by default.
// It is the shortest that a ZooKeeper server with the stock tickTime of
// 2 s grants (sessions are clamped to 2–20 ticks): a dead leader's session,
// and with it its election node, expires 4 s after its last heartbeat, so a
// follower leads about 4–6 s after a kill -9. A shorter session would only
// be granted by a server with a shorter tickTime; a longer one only delays
// failover, and since the workers keep every interval the leader has not
// acknowledged, a failover costs no data, only that delay. The price is that
// a master stalled for more than 4 s (a long GC pause, a network blip)
// loses leadership, which is harmless for the same reason.
const MasterSessionTimeout = 4 * time.Second
