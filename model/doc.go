// Package model holds the plain data that flows between ptcdoctor's parts: rules,
// repositories, images, templates, secrets' metadata, snapshots of an account, findings,
// fixes and the plans that carry them out. It does no I/O and imports nothing else of ptcdoctor.
package model
