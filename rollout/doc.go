// Package rollout converges a running server on a declared checkpoint, so that a fleet of
// replicas moves to the next ColD-Fusion iteration when one file changes.
//
// The declaration is a small YAML or JSON document (see [Declaration]): a source, a revision,
// and optionally the expected digest, a drift gate and permission to change geometry. On
// Kubernetes it is a ConfigMap mounted into every pod; the kubelet updates such a volume by
// swapping a symlink, so the file's mtime says nothing and the [Reconciler] compares its
// content.
//
// Every poll the reconciler reads the file and resolves its source with the same
// checkpoint.Resolver the admin API uses (the --checkpoint-root and --allow-hub rules apply; a
// moving Hub revision such as main costs one metadata request when its commit is cached, and
// the download of a new commit otherwise). The result is a target: the file content and the
// directory it names. Then:
//
//   - The served checkpoint is read from that directory (with the pinned digest, if any):
//     converged, nothing to do.
//   - The target is new: the core swaps it in through its admin path (load, validate, probe,
//     drift), the same path as POST /admin/checkpoint. Success serves it; a candidate below
//     min_cosine is held (the served checkpoint stays, and it is not tried again); any other
//     failure is rejected: the served checkpoint stays and the target is tried again after a
//     backoff that doubles up to MaxBackoff, or at once when the file changes.
//   - The target was handled before but is not served: an admin change replaced it. The
//     operator's explicit change wins until the declaration changes (the file, or the commit
//     its revision names).
//
// The reconciler is not HTTP: it drives the protocol-free core (package inference) through
// the [Core] interface, reports through [Reconciler.Status] (a front end serves it) and two
// Prometheus collectors registered on the registerer it is given, and logs through the
// slog.Logger it is given. It keeps no global state; one Reconciler serves one core.
package rollout
