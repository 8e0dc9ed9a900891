// Package model holds the plain data that flows between ptcdoctor's parts: rules,
// repositories, images, templates, secrets' metadata, snapshots of an account (with the
// parts that could not be read), findings with their stable keys and ids, what could not
// be checked, fixes and the plans that carry them out. It does no I/O and imports
// nothing else of ptcdoctor.
//
// An account holds a hundred thousand images, so an Image is stored compactly
// (compact.go): its Digest, MediaType and UnixTime fields are small types that read
// back as the string or time they were made from (String, Time).
package model
