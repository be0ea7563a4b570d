package e2ee_test

import (
	"crypto/rand"
	"fmt"
	"time"

	"scanlab"
	"scanlab/e2ee"
)

// Example runs one message through the mode: Seal on the sender, Accept at
// the relay, Open on the recipient, then a report the provider verifies.
func Example() {
	mode := e2ee.New(e2ee.Options{})
	dir := e2ee.NewMemoryDirectory()
	alice, _ := mode.NewDevice("alice", dir)
	bob, _ := mode.NewDevice("bob", dir)
	key := make([]byte, 32)
	rand.Read(key)
	relay, _ := mode.NewServer(scanlab.ServerEnv{
		Now:    time.Now,
		Secret: func(string) ([]byte, error) { return key, nil },
	})

	env, err := alice.Seal(scanlab.Message{ID: "m1", From: "alice", To: "bob", Sent: time.Now(),
		Content: scanlab.Content{Kind: scanlab.Text, Text: "hello bob"}})
	if err != nil {
		panic(err)
	}
	if _, err := relay.Accept(&env); err != nil {
		panic(err)
	}
	got, err := bob.Open(env)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.From, "says", got.Content.Text)

	report, _ := bob.Report(got)
	ds, err := relay.Verify(report)
	if err != nil {
		panic(err)
	}
	fmt.Println(ds[0].Pathway, ds[0].Account, ds[0].MessageID)
	// Output:
	// alice says hello bob
	// user-report alice m1
}
