package stats_test

import (
	"fmt"

	"scanlab/stats"
)

func ExampleClopperPearson() {
	// 12 of 15 offenders flagged.
	iv, err := stats.ClopperPearson(12, 15, stats.Level95)
	if err != nil {
		panic(err)
	}
	fmt.Println(iv)
	// Output: 0.8 [0.519, 0.957]
}

func ExampleClopperPearsonUpper() {
	// No false match among 10,000 benign images.
	iv, _ := stats.ClopperPearsonUpper(0, 10_000, stats.Level95)
	r3, _ := stats.RuleOfThree(10_000)
	fmt.Printf("exact %.3g, rule of three %.3g\n", iv.Hi, r3.Hi)
	// Output: exact 0.0003, rule of three 0.0003
}

func ExampleBootstrap_Ratio() {
	// Items detected / items delivered, per offender account: detection is
	// all or nothing per account, so the 15 accounts are the sample.
	var accounts []stats.Cluster
	for i := range 15 {
		c := stats.Cluster{Den: 20}
		if i < 12 {
			c.Num = 20
		}
		accounts = append(accounts, c)
	}
	iv, err := stats.Bootstrap{Seed: 1}.Ratio("example/item_recall", accounts, stats.Level95)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s from %d accounts\n", iv, iv.Clusters)
	// Output: 0.8 [0.6, 1] from 15 accounts
}

func ExampleBinomialSurvival() {
	// An account with a million images, each a false match with
	// probability 1e-6, is revealed at threshold 30 only with more than 30
	// false matches (its 31st). P[more than 29] is the "at least 30" figure.
	fmt.Printf("%.3g %.3g\n", stats.BinomialSurvival(1_000_000, 1e-6, 30), stats.BinomialSurvival(1_000_000, 1e-6, 29))
	// Output: 4.62e-35 1.43e-33
}

func ExampleNewcombeDifference() {
	// Newcombe's (1998) first example: 56 of 70 against 48 of 80.
	iv, err := stats.NewcombeDifference(56, 70, 48, 80, stats.Level95)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.4f [%.4f, %.4f]\n", iv.Estimate, iv.Lo, iv.Hi)
	// Output: 0.2000 [0.0524, 0.3339]
}
