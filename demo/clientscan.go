package demo

import (
	"strconv"

	"scanlab"
	"scanlab/clientscan"
	"scanlab/observe"
)

// This file holds everything the demo knows about clientscan beyond the
// scanlab.Mode interface: the name of the voucher attachment and how its
// server logic records an account's running counts. Nothing else in the
// package names the clientscan package.

// VoucherCount is what a provider knows of an account's safety vouchers
// after one message: how many it received, and how many matched the list
// (real matches or decoys: below the threshold it cannot tell which).
type VoucherCount struct {
	// Counted is false in modes without vouchers.
	Counted           bool
	Vouchers, Matches int
	// Bytes is the size of the voucher this message carried.
	Bytes int
}

// voucherBytes returns the size of the safety voucher a sealed envelope
// carries (0 when it has none).
func voucherBytes(e scanlab.Envelope) int { return len(e.Attach[clientscan.AttachVoucher]) }

// vouchersAfter returns account's running counts as the provider's server
// logic last recorded them among evs (the provider's records of one
// message), or a zero VoucherCount when it recorded none.
func vouchersAfter(evs []observe.Evidence, account scanlab.UserID) VoucherCount {
	var c VoucherCount
	for _, e := range evs {
		if e.Route != clientscan.RouteVouchers || e.Fields["account"] != string(account) {
			continue
		}
		v, err1 := strconv.Atoi(e.Fields["vouchers"])
		m, err2 := strconv.Atoi(e.Fields["matches"])
		if err1 == nil && err2 == nil {
			c = VoucherCount{Counted: true, Vouchers: v, Matches: m}
		}
	}
	return c
}
