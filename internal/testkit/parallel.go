package testkit

import (
	"flag"
	"strconv"
)

// RaiseParallel raises the default of -test.parallel (GOMAXPROCS, so 2 on a
// 2-core machine) to n, for a package whose parallel tests spend most of
// their time waiting — on simulated latency, hung connections, back-off,
// scrape deadlines — rather than on the CPU: n of them then wait at once. A
// -parallel (-test.parallel) given on the command line is kept as given, and
// a default already above n is kept too. Call it from TestMain before m.Run.
func RaiseParallel(n int) {
	if !flag.Parsed() {
		flag.Parse()
	}
	explicit := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			explicit = true
		}
	})
	f := flag.Lookup("test.parallel")
	if explicit || f == nil {
		return
	}
	if cur, err := strconv.Atoi(f.Value.String()); err == nil && cur >= n {
		return
	}
	_ = f.Value.Set(strconv.Itoa(n))
}
