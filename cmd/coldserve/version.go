package main

import "runtime/debug"

// release is the version of this source tree; version adds the commit it was built from.
const release = "0.2.0"

// version is what GET /info reports: the release and, when the build recorded it, the
// commit (go build records vcs.revision from a git checkout).
var version = func() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return release
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return release + "+" + s.Value[:12]
		}
	}
	return release
}()
