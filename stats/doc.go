// Package stats holds the interval machinery every scanlab experiment uses
// to put a 95% interval beside a rate, and the binomial tail the threshold
// arithmetic needs.
//
//   - [ClopperPearson] and [ClopperPearsonUpper]: exact binomial intervals
//     and one-sided upper bounds (Clopper and Pearson, Biometrika 26(4),
//     1934), from quantiles of the Beta distribution.
//   - [Wilson]: the score interval (Wilson, JASA 22(158), 1927).
//   - [NewcombeDifference]: the difference of two independent proportions
//     with Newcombe's hybrid score interval, built from two Wilson
//     intervals (Newcombe, Statistics in Medicine 17(8), 1998, method 10).
//   - [RuleOfThree]: the one-sided 95% upper bound 3/n after zero events in
//     n trials (Hanley and Lippman-Hand, JAMA 249(13), 1983).
//   - [Bootstrap]: a seeded cluster bootstrap of a ratio of per-account sums
//     (items detected / items delivered, flagged accounts / accounts), which
//     resamples accounts, the unit that is really independent.
//   - [MeanT]: a Student t interval for the mean of independent runs (one
//     figure per seed).
//   - [BinomialSurvival]: P[Binomial(n, p) > k], with its logarithm, for
//     tails far below the float64 range.
//
// # Assumptions
//
// The binomial intervals assume independent trials with one common
// probability: use them for units that are independent (accounts, distinct
// images), not for messages of the same account. The cluster bootstrap
// assumes accounts are independent and identically distributed draws from
// the population the study generates; it makes no assumption about how items
// within an account depend on each other. Percentile intervals of a
// bootstrap are approximate: with few clusters (under about 20) or a ratio
// near 0 or 1 they are too narrow, and a result with zero events should be
// read with [ClopperPearson] or [RuleOfThree] beside it.
//
// # No data
//
// A rate with no trials (n = 0, or every account's denominator 0) has no
// estimate. Every function here returns an [Interval] with NoData set, and
// Estimate, Lo and Hi set to 0, 0 and 1 (−1 and 1 for a difference), never
// NaN; [Interval.String] prints "no data".
package stats
