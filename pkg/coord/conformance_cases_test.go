package coord_test

import (
	"bytes"
	"context"
	"errors"
	"path"
	"slices"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/coord"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

// event receives a watch's one event and checks that the channel is then
// closed.
func event(t *testing.T, w <-chan coord.WatchEvent, what string) coord.WatchEvent {
	t.Helper()
	var ev coord.WatchEvent
	select {
	case ev = <-w:
	case <-time.After(15 * time.Second):
		t.Fatalf("%s: no watch event", what)
	}
	select {
	case again, ok := <-w:
		if ok {
			t.Fatalf("%s: a second event %+v after %+v", what, again, ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: the watch channel stays open after its event", what)
	}
	return ev
}

// quiet checks that a watch has not fired (yet).
func quiet(t *testing.T, w <-chan coord.WatchEvent, what string) {
	t.Helper()
	select {
	case ev := <-w:
		t.Fatalf("%s: unexpected event %+v", what, ev)
	default:
	}
}

func caseCRUD(h *harness) {
	t, c, ctx, r := h.t, h.client(), h.ctx(), h.root
	p, err := c.Create(ctx, r+"/a", []byte("one"), coord.Persistent)
	must(t, err)
	if p != r+"/a" {
		t.Errorf("Create returned %q, want %q", p, r+"/a")
	}
	d, st, err := c.Get(ctx, r+"/a")
	must(t, err)
	if string(d) != "one" || st.Version != 0 || st.DataLength != 3 || st.EphemeralOwner != 0 || st.NumChildren != 0 {
		t.Errorf("Get = %q %+v, want one, version 0, length 3, no owner, no children", d, st)
	}
	if time.Since(st.Created) > time.Minute || st.Modified.Before(st.Created) {
		t.Errorf("times: created %v modified %v", st.Created, st.Modified)
	}
	st, err = c.Set(ctx, r+"/a", []byte("two!"), 0)
	must(t, err)
	if st.Version != 1 || st.DataLength != 4 {
		t.Errorf("Set stat = %+v, want version 1, length 4", st)
	}
	_, err = c.Set(ctx, r+"/a", []byte("stale"), 0)
	wantErr(t, "Set with a stale version", err, coord.ErrBadVersion)
	_, err = c.Set(ctx, r+"/a", []byte("any"), -1)
	must(t, err)
	_, err = c.Create(ctx, r+"/a", nil, coord.Persistent)
	wantErr(t, "Create of an existing node", err, coord.ErrNodeExists)
	_, err = c.Create(ctx, r+"/none/b", nil, coord.Persistent)
	wantErr(t, "Create under a missing parent", err, coord.ErrNoNode)
	_, err = c.Create(ctx, r+"/a/", nil, coord.Persistent)
	wantErr(t, "Create with a trailing slash", err, coord.ErrInvalidPath)
	_, _, err = c.Get(ctx, r+"/none")
	wantErr(t, "Get of a missing node", err, coord.ErrNoNode)
	_, err = c.Children(ctx, r+"/none")
	wantErr(t, "Children of a missing node", err, coord.ErrNoNode)
	_, err = c.Set(ctx, r+"/none", nil, -1)
	wantErr(t, "Set of a missing node", err, coord.ErrNoNode)
	ok, st, err := c.Exists(ctx, r+"/none")
	if ok || err != nil || st != (coord.Stat{}) {
		t.Errorf("Exists of a missing node = %v %+v %v, want false, zero stat, no error", ok, st, err)
	}
	_, err = c.Create(ctx, r+"/a/kid", nil, coord.Persistent)
	must(t, err)
	ok, st, err = c.Exists(ctx, r+"/a")
	if !ok || err != nil || st.NumChildren != 1 || st.Version != 2 {
		t.Errorf("Exists = %v %+v %v, want true with 1 child at version 2", ok, st, err)
	}
	wantErr(t, "Delete of a node with children", c.Delete(ctx, r+"/a", -1), coord.ErrNotEmpty)
	wantErr(t, "Delete with a stale version", c.Delete(ctx, r+"/a/kid", 3), coord.ErrBadVersion)
	wantErr(t, "Delete of a missing node", c.Delete(ctx, r+"/none", -1), coord.ErrNoNode)
	must(t, c.Delete(ctx, r+"/a/kid", 0))
	e, err := c.Create(ctx, r+"/eph", nil, coord.Ephemeral)
	must(t, err)
	_, err = c.Create(ctx, e+"/kid", nil, coord.Persistent)
	wantErr(t, "Create under an ephemeral node", err, coord.ErrEphemeralParent)
	must(t, c.DeleteTree(ctx, r))
	testcluster.Absent(t, c, r, "DeleteTree left it")
}

// Sequence numbers are the parent's count of children created so far
// (deletions do not count), ten digits.
func caseSequential(h *harness) {
	t, c, ctx, r := h.t, h.client(), h.ctx(), h.root
	mk := func(mode coord.Mode) string {
		t.Helper()
		p, err := c.Create(ctx, r+"/n-", nil, mode)
		must(t, err)
		return path.Base(p)
	}
	got := []string{mk(coord.PersistentSequential), mk(coord.EphemeralSequential)}
	_, err := c.Create(ctx, r+"/plain", nil, coord.Persistent)
	must(t, err)
	must(t, c.Delete(ctx, r+"/plain", -1))
	got = append(got, mk(coord.PersistentSequential))
	want := []string{"n-0000000000", "n-0000000001", "n-0000000003"}
	if !slices.Equal(got, want) {
		t.Errorf("sequential names = %v, want %v", got, want)
	}
	for i, n := range got {
		if coord.Seq(n) != []int64{0, 1, 3}[i] {
			t.Errorf("Seq(%s) = %d", n, coord.Seq(n))
		}
	}
	kids, err := c.Children(ctx, r)
	must(t, err)
	if !slices.Equal(kids, want) {
		t.Errorf("Children = %v, want %v (sorted)", kids, want)
	}
}

func caseEphemerals(h *harness) {
	t, ctx, r := h.t, h.ctx(), h.root
	observer, closing, expiring := h.client(), h.client(), h.dial(2*time.Second, "")
	a, err := closing.Create(ctx, r+"/closing", []byte("x"), coord.Ephemeral)
	must(t, err)
	b, err := expiring.Create(ctx, r+"/expiring", []byte("y"), coord.Ephemeral)
	must(t, err)
	_, st, err := observer.Get(ctx, a)
	must(t, err)
	if st.EphemeralOwner != closing.Session().ID || st.EphemeralOwner == 0 {
		t.Errorf("owner = %#x, want the creator's session %#x", st.EphemeralOwner, closing.Session().ID)
	}
	closing.Close()
	testcluster.Eventually(t, 5*time.Second, "an ephemeral gone once its client closes", func() bool {
		ok, _, err := observer.Exists(ctx, a)
		return err == nil && !ok
	})
	old := expiring.Session().ID
	h.expire(expiring)
	testcluster.Absent(t, observer, b, "an ephemeral outlived its expired session")
	if id := expiring.Session().ID; id == old || id == 0 {
		t.Errorf("session id after expiry = %#x, want a new one (was %#x)", id, old)
	}
	// the new session works and owns what it creates
	p, err := expiring.Create(ctx, r+"/again", nil, coord.Ephemeral)
	must(t, err)
	_, st, err = observer.Get(ctx, p)
	if err != nil || st.EphemeralOwner != expiring.Session().ID {
		t.Errorf("after expiry: owner %#x err %v, want %#x", st.EphemeralOwner, err, expiring.Session().ID)
	}
}

func caseWatches(h *harness) {
	t, ctx, r := h.t, h.ctx(), h.root
	w, c := h.client(), h.client() // the watcher and another session that writes
	for _, n := range []string{"/data", "/gone", "/exists", "/parent", "/dying"} {
		_, err := c.Create(ctx, r+n, nil, coord.Persistent)
		must(t, err)
	}
	cases := []struct {
		name   string
		watch  func() (<-chan coord.WatchEvent, error)
		act    func() error
		want   coord.EventType
		wantAt string
	}{
		{"GetW then Set", func() (<-chan coord.WatchEvent, error) { _, _, ch, err := w.GetW(ctx, r+"/data"); return ch, err },
			func() error { _, err := c.Set(ctx, r+"/data", []byte("x"), -1); return err }, coord.EventDataChanged, "/data"},
		{"GetW then Delete", func() (<-chan coord.WatchEvent, error) { _, _, ch, err := w.GetW(ctx, r+"/gone"); return ch, err },
			func() error { return c.Delete(ctx, r+"/gone", -1) }, coord.EventDeleted, "/gone"},
		{"ExistsW of a missing node then Create", existsW(w, ctx, r+"/born"),
			func() error { _, err := c.Create(ctx, r+"/born", nil, coord.Persistent); return err }, coord.EventCreated, "/born"},
		{"ExistsW of a node then Set", existsW(w, ctx, r+"/exists"),
			func() error { _, err := c.Set(ctx, r+"/exists", nil, -1); return err }, coord.EventDataChanged, "/exists"},
		{"ChildrenW then a child is created", childrenW(w, ctx, r+"/parent"),
			func() error { _, err := c.Create(ctx, r+"/parent/k", nil, coord.Ephemeral); return err }, coord.EventChildrenChanged, "/parent"},
		{"ChildrenW then a child is deleted", childrenW(w, ctx, r+"/parent"),
			func() error { return c.Delete(ctx, r+"/parent/k", -1) }, coord.EventChildrenChanged, "/parent"},
		{"ChildrenW then the node is deleted", childrenW(w, ctx, r+"/dying"),
			func() error { return c.Delete(ctx, r+"/dying", -1) }, coord.EventDeleted, "/dying"},
		{"ChildrenW ignores a change of data", childrenW(w, ctx, r+"/exists"),
			func() error { _, err := c.Set(ctx, r+"/exists", []byte("y"), -1); return err }, 0, ""},
	}
	for _, tc := range cases {
		ch, err := tc.watch()
		must(t, err)
		quiet(t, ch, tc.name+" before the change")
		must(t, tc.act())
		if tc.want == 0 {
			must(t, c.Delete(ctx, r+"/exists", -1)) // now the child watch fires, with Deleted
			if ev := event(t, ch, tc.name); ev.Type != coord.EventDeleted {
				t.Errorf("%s: first event %+v, want the deletion", tc.name, ev)
			}
			continue
		}
		ev := event(t, ch, tc.name)
		if ev.Type != tc.want || ev.Path != r+tc.wantAt || ev.Err != nil {
			t.Errorf("%s: event %+v, want type %d at %s", tc.name, ev, tc.want, r+tc.wantAt)
		}
	}
	_, _, _, err := w.GetW(ctx, r+"/never")
	wantErr(t, "GetW of a missing node", err, coord.ErrNoNode)
}

func existsW(c *coord.Client, ctx context.Context, p string) func() (<-chan coord.WatchEvent, error) {
	return func() (<-chan coord.WatchEvent, error) { _, ch, err := c.ExistsW(ctx, p); return ch, err }
}

func childrenW(c *coord.Client, ctx context.Context, p string) func() (<-chan coord.WatchEvent, error) {
	return func() (<-chan coord.WatchEvent, error) { _, ch, err := c.ChildrenW(ctx, p); return ch, err }
}

// A session's watches end with EventNotWatching when it expires or its
// client closes.
func caseWatchesEnd(h *harness) {
	t, ctx, r := h.t, h.ctx(), h.root
	expiring, closing := h.dial(2*time.Second, ""), h.client()
	_, err := expiring.Create(ctx, r+"/n", nil, coord.Persistent)
	must(t, err)
	_, _, we, err := expiring.GetW(ctx, r+"/n")
	must(t, err)
	_, wc, err := closing.ChildrenW(ctx, r)
	must(t, err)
	h.expire(expiring)
	if ev := event(t, we, "a watch of an expired session"); ev.Type != coord.EventNotWatching || !errors.Is(ev.Err, coord.ErrExpired) {
		t.Errorf("after expiry: %+v, want EventNotWatching with ErrExpired", ev)
	}
	closing.Close()
	if ev := event(t, wc, "a watch of a closed client"); ev.Type != coord.EventNotWatching || !errors.Is(ev.Err, coord.ErrClosed) {
		t.Errorf("after Close: %+v, want EventNotWatching with ErrClosed", ev)
	}
	_, _, err = closing.Get(ctx, r+"/n")
	wantErr(t, "Get after Close", err, coord.ErrClosed)
}

// A watch set before a disconnection fires after the reconnection for a
// change made meanwhile.
func caseWatchSurvivesPartition(h *harness) {
	t, ctx, r := h.t, h.ctx(), h.root
	cut, other := h.dial(6*time.Second, ""), h.client()
	_, err := other.Create(ctx, r+"/n", nil, coord.Persistent)
	must(t, err)
	_, _, w, err := cut.GetW(ctx, r+"/n")
	must(t, err)
	id := cut.Session().ID
	heal := h.partition(cut)
	_, err = other.Set(ctx, r+"/n", []byte("meanwhile"), -1)
	must(t, err)
	heal()
	if ev := event(t, w, "a watch across a disconnection"); ev.Type != coord.EventDataChanged || ev.Path != r+"/n" {
		t.Errorf("event %+v, want EventDataChanged at %s/n", ev, r)
	}
	if s := cut.Session(); s.ID != id {
		t.Errorf("session after a short disconnection = %#x, want the same %#x", s.ID, id)
	}
}

// A call made while cut off waits, bounded by its context, and calls work
// again once the connection is back, on the same session.
func caseCutOffCalls(h *harness) {
	t, ctx, r := h.t, h.ctx(), h.root
	c := h.dial(4*time.Second, "")
	_, err := c.Create(ctx, r+"/n", []byte("x"), coord.Persistent)
	must(t, err)
	id := c.Session().ID
	heal := h.partition(c)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, _, err = c.Get(short, r+"/n")
	if !errors.Is(err, coord.ErrTimeout) && !errors.Is(err, coord.ErrConnection) {
		t.Errorf("Get while cut off: %v, want ErrTimeout or ErrConnection", err)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("Get while cut off returned after %v, want its 300 ms deadline", d)
	}
	heal()
	testcluster.Eventually(t, 15*time.Second, "calls work again after the reconnection", func() bool {
		d, _, err := c.Get(ctx, r+"/n")
		return err == nil && string(d) == "x"
	})
	if c.Session().ID != id {
		t.Errorf("session after a short cut = %#x, want the same %#x", c.Session().ID, id)
	}
}

func caseMulti(h *harness) {
	t, ctx, r := h.t, h.ctx(), h.root
	c, w := h.client(), h.client()
	_, err := c.Create(ctx, r+"/b", []byte("b"), coord.Persistent)
	must(t, err)
	_, cw, err := w.ChildrenW(ctx, r)
	must(t, err)
	err = c.Multi(ctx,
		coord.CreateOp{Path: r + "/a", Data: []byte("a")},
		coord.SetOp{Path: r + "/b", Data: []byte("b2"), Version: 7},
		coord.CreateOp{Path: r + "/c"})
	var me *coord.MultiError
	if !errors.As(err, &me) || me.Index != 1 || me.Path != r+"/b" || !errors.Is(err, coord.ErrBadVersion) {
		t.Fatalf("Multi = %v, want a MultiError at op 1 (%s/b) with ErrBadVersion", err, r)
	}
	testcluster.Absent(t, c, r+"/a", "a failed multi applied its first op")
	testcluster.Absent(t, c, r+"/c", "a failed multi applied its last op")
	if d, st, err := c.Get(ctx, r+"/b"); err != nil || string(d) != "b" || st.Version != 0 {
		t.Errorf("after a failed multi: %q %+v %v, want b untouched", d, st, err)
	}
	quiet(t, cw, "a watch after a failed multi")
	err = c.Multi(ctx, coord.CheckOp{Path: r + "/none", Version: -1})
	if !errors.As(err, &me) || me.Index != 0 || !errors.Is(err, coord.ErrNoNode) {
		t.Errorf("Multi checking a missing node = %v, want ErrNoNode at op 0", err)
	}
	must(t, c.Multi(ctx,
		coord.CheckOp{Path: r + "/b", Version: 0},
		coord.CreateOp{Path: r + "/a", Data: []byte("a")},
		coord.SetOp{Path: r + "/b", Data: []byte("b2"), Version: 0},
		coord.DeleteOp{Path: r + "/a", Version: 0},
		coord.CreateOp{Path: r + "/s-", Mode: coord.PersistentSequential}))
	kids, err := c.Children(ctx, r)
	must(t, err)
	// b and a were created before the sequential node: its number is 2
	if want := []string{"b", "s-0000000002"}; !slices.Equal(kids, want) {
		t.Errorf("after a multi: children %v, want %v", kids, want)
	}
	if d, st, err := c.Get(ctx, r+"/b"); err != nil || string(d) != "b2" || st.Version != 1 {
		t.Errorf("after a multi: %q %+v %v, want b2 at version 1", d, st, err)
	}
	if ev := event(t, cw, "a child watch after a multi"); ev.Type != coord.EventChildrenChanged {
		t.Errorf("event %+v, want EventChildrenChanged", ev)
	}
}

func caseSizeLimit(h *harness) {
	t, c, ctx, r := h.t, h.client(), h.ctx(), h.root
	biggest := bytes.Repeat([]byte("x"), coord.MaxData)
	p, err := c.Create(ctx, r+"/big", biggest, coord.Persistent)
	must(t, err)
	if d, _, err := c.Get(ctx, p); err != nil || !bytes.Equal(d, biggest) {
		t.Errorf("Get of a %d-byte node: %d bytes, %v", coord.MaxData, len(d), err)
	}
	tooBig := append(biggest, 'y')
	_, err = c.Create(ctx, r+"/bigger", tooBig, coord.Persistent)
	wantErr(t, "Create over the limit", err, coord.ErrDataTooLong)
	_, err = c.Set(ctx, p, tooBig, -1)
	wantErr(t, "Set over the limit", err, coord.ErrDataTooLong)
	half := biggest[:coord.MaxData/2+1]
	err = c.Multi(ctx, coord.CreateOp{Path: r + "/h1", Data: half}, coord.SetOp{Path: p, Data: half, Version: -1})
	wantErr(t, "Multi over the limit", err, coord.ErrDataTooLong)
	testcluster.Absent(t, c, r+"/h1", "an oversized multi applied")
}

// A client with a secret creates nodes nobody else may read or change.
func caseACL(h *harness) {
	t, ctx, r := h.t, h.ctx(), h.root
	owner, anon, wrong := h.dial(4*time.Second, "stampede:s3cret-password"), h.client(), h.dial(4*time.Second, "stampede:wrong-password")
	_, err := owner.Create(ctx, r+"/closed", []byte("x"), coord.Persistent)
	must(t, err)
	_, err = anon.Create(ctx, r+"/open", nil, coord.Persistent)
	must(t, err)
	for _, c := range []*coord.Client{anon, wrong} {
		_, _, err = c.Get(ctx, r+"/closed")
		wantErr(t, "Get", err, coord.ErrNoAuth)
		_, err = c.Children(ctx, r+"/closed")
		wantErr(t, "Children", err, coord.ErrNoAuth)
		_, err = c.Set(ctx, r+"/closed", nil, -1)
		wantErr(t, "Set", err, coord.ErrNoAuth)
		_, err = c.Create(ctx, r+"/closed/kid", nil, coord.Persistent)
		wantErr(t, "Create under", err, coord.ErrNoAuth)
		err = c.Multi(ctx, coord.CheckOp{Path: r + "/closed", Version: -1})
		wantErr(t, "Multi check", err, coord.ErrNoAuth)
	}
	if _, err := owner.Create(ctx, r+"/closed/kid", nil, coord.Persistent); err != nil {
		t.Errorf("the owner's Create under its node: %v", err)
	}
	wantErr(t, "Delete of a child of a closed node", anon.Delete(ctx, r+"/closed/kid", -1), coord.ErrNoAuth)
	for p, want := range map[string]bool{r + "/open": true, r + "/closed": false} {
		if got, err := owner.OpenToAnyone(ctx, p); err != nil || got != want {
			t.Errorf("OpenToAnyone(%s) = %v, %v; want %v", p, got, err, want)
		}
	}
}

// Kept ephemerals (sequential and at a fixed path) come back after the
// session expired, owned by the new session, with their latest data.
func caseKeptEphemeral(h *harness) {
	t, ctx, r := h.t, h.ctx(), h.root
	c, observer := h.dial(2*time.Second, ""), h.client()
	seq, err := c.Register(ctx, r, "w-", []byte("a"))
	must(t, err)
	fixed, err := c.RegisterAt(ctx, r+"/fixed", []byte("f"))
	must(t, err)
	first := seq.Path()
	must(t, seq.Update(ctx, []byte("b")))
	h.expire(c)
	testcluster.Eventually(t, 15*time.Second, "both registrations re-created by the new session", func() bool {
		id := c.Session().ID
		for _, reg := range []*coord.Registration{seq, fixed} {
			_, st, err := observer.Get(ctx, reg.Path())
			if reg.Path() == "" || err != nil || st.EphemeralOwner != id {
				return false
			}
		}
		return seq.Path() != first
	})
	if d, _, err := observer.Get(ctx, seq.Path()); err != nil || string(d) != "b" {
		t.Errorf("re-created registration: %q %v, want the latest data b", d, err)
	}
	if fixed.Path() != r+"/fixed" {
		t.Errorf("fixed registration at %q, want %s/fixed", fixed.Path(), r)
	}
	kids, err := observer.Children(ctx, r)
	must(t, err)
	if len(kids) != 2 {
		t.Errorf("children %v, want exactly the two registrations", kids)
	}
	must(t, seq.Close(ctx))
	testcluster.Absent(t, observer, seq.Path(), "a closed registration stayed")
	_, err = observer.RegisterAt(ctx, r+"/fixed", nil)
	wantErr(t, "RegisterAt of another session's node", err, coord.ErrNodeExists)
}

// A node's Mzxid grows with each change and never repeats for a path, even
// when the node is deleted and created again at version 0: readers that
// cache by it see every new content.
func caseMzxid(h *harness) {
	t, c, ctx, r := h.t, h.client(), h.ctx(), h.root
	_, err := c.Create(ctx, r+"/z", []byte("one"), coord.Persistent)
	must(t, err)
	_, created, err := c.Get(ctx, r+"/z")
	must(t, err)
	set, err := c.Set(ctx, r+"/z", []byte("two"), -1)
	must(t, err)
	_, got, err := c.Get(ctx, r+"/z")
	must(t, err)
	if created.Mzxid <= 0 || set.Mzxid <= created.Mzxid || got.Mzxid != set.Mzxid {
		t.Errorf("mzxid created %d, set %d, read after %d: want positive, growing, the set's", created.Mzxid, set.Mzxid, got.Mzxid)
	}
	_, _, again, err := c.GetW(ctx, r+"/z")
	must(t, err)
	if ok, st, err := c.Exists(ctx, r+"/z"); !ok || err != nil || st.Mzxid != set.Mzxid {
		t.Errorf("Exists = %v %+v %v, want mzxid %d", ok, st, err, set.Mzxid)
	}
	quiet(t, again, "a read changes nothing")
	must(t, c.Delete(ctx, r+"/z", -1))
	_, err = c.Create(ctx, r+"/z", []byte("two"), coord.Persistent)
	must(t, err)
	_, re, err := c.Get(ctx, r+"/z")
	must(t, err)
	if re.Version != 0 || re.Mzxid <= set.Mzxid {
		t.Errorf("re-created: version %d, mzxid %d, want 0 and above %d", re.Version, re.Mzxid, set.Mzxid)
	}
	must(t, c.DeleteTree(ctx, r))
}
