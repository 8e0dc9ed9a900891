package sim

import (
	"time"
)

// The archive storage class, as https://docs.aws.amazon.com/AmazonECR/latest/userguide/archive-image.html
// describes it: an archived image cannot be pulled ("Requests to pull the archived image
// will fail with a 404 error") but is still described and listed with imageStatus
// ARCHIVED; DescribeImages and ListImages return only ACTIVE images unless
// filter.imageStatus says otherwise (API model, DescribeImagesFilter); an image is archived
// and restored with UpdateImageStorageClass, or archived by a lifecycle rule's transition.

// Image statuses of the API model's ImageStatus enum.
const (
	statusActive     = "ACTIVE"
	statusArchived   = "ARCHIVED"
	statusActivating = "ACTIVATING"
)

// restoreDuration is how long a restore stays ACTIVATING before the image is ACTIVE
// again. AWS publishes no figure: this is a model.
const restoreDuration = 20 * time.Minute

// status is the image's status now, by the stand-in's clock.
func (img *imageState) status(now time.Time) string {
	switch {
	case img.Status == statusArchived:
		return statusArchived
	case img.Status == statusActivating && now.Before(img.ActivatedAt.Add(restoreDuration)):
		return statusActivating
	}
	return statusActive
}

// pullable reports whether an image can be pulled now: archived and activating ones cannot.
func (img *imageState) pullable(now time.Time) bool {
	return img.status(now) == statusActive
}

// matchesImageStatus applies a DescribeImages or ListImages filter.imageStatus; with none,
// only ACTIVE images are returned (API model, DescribeImagesFilter.imageStatus).
func matchesImageStatus(img *imageState, filter string, now time.Time) bool {
	if filter == "" {
		filter = statusActive
	}
	return filter == "ANY" || img.status(now) == filter
}

func (s *Server) archive(img *imageState, now time.Time) {
	img.Status, img.ArchivedAt = statusArchived, now
}

func updateImageStorageClass(c *call) (any, *apiError) {
	var in struct {
		imagesIn
		ImageID            imageID `json:"imageId"`
		TargetStorageClass string  `json:"targetStorageClass"`
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	r, e := c.imagesRepo(&in.imagesIn)
	if e != nil {
		return nil, e
	}
	st := c.srv.st
	now := c.srv.clock.Now()
	img, code, _ := r.resolve(in.ImageID)
	if code != "" {
		return nil, imageNotFound(st.accountID, r.Name, in.ImageID)
	}
	status := img.status(now)
	switch {
	case in.TargetStorageClass == "ARCHIVE" && status == statusActive:
		if r.isChild(img.Digest) {
			// A manifest an index references goes with its index. (A model: AWS documents no answer.)
			return nil, clientError("ImageStorageClassUpdateNotSupportedException",
				"The image %s is referenced by a manifest list and cannot be archived on its own.", img.Digest)
		}
		c.srv.archive(img, now)
		for _, child := range img.Children {
			if ci := r.images[child]; ci != nil {
				c.srv.archive(ci, now)
			}
		}
	case in.TargetStorageClass == "STANDARD" && status == statusArchived:
		img.Status, img.ActivatedAt = statusActivating, now
		for _, child := range img.Children {
			if ci := r.images[child]; ci != nil && ci.Status == statusArchived {
				ci.Status, ci.ActivatedAt = statusActivating, now
			}
		}
	default:
		// Archiving what is archived, restoring what is active or being restored. The
		// exception is the API model's; its wording here is the stand-in's.
		return nil, clientError("ImageStorageClassUpdateNotSupportedException",
			"The image is %s; it cannot be moved to the %s storage class.", status, in.TargetStorageClass)
	}
	return map[string]any{"registryId": st.accountID, "repositoryName": r.Name,
		"imageId": imageID{ImageDigest: img.Digest.String(), ImageTag: in.ImageID.ImageTag}, "imageStatus": img.status(now)}, nil
}

func imageNotFound(registry, repo string, id imageID) *apiError {
	return clientError("ImageNotFoundException", "The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'",
		orDefault(id.ImageDigest, "null"), orDefault(id.ImageTag, "null"), repo, registry)
}
