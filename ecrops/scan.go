package ecrops

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"
	"unique"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Scope narrows a scan. The zero value is the whole registry.
type Scope struct {
	Rule         string   // only repositories under this rule's prefix
	Repositories []string // only these repositories (one, or those that references name)
	// RulesOnly reads the rules, templates, registry policy and caller, and no repository.
	RulesOnly bool
}

func (s Scope) whole() bool { return s.Rule == "" && len(s.Repositories) == 0 }

// Progress is what a scan reports as it goes, so that rules and repositories can be shown
// before the images are all read. Snapshot is a copy that the receiver may keep.
type Progress struct {
	Stage      string // "rules", "repositories", "images", "done"
	Snapshot   *model.Snapshot
	ReposDone  int
	ReposTotal int
	Images     int
}

// The largest page every listing allows: fewest calls.
const maxPage = 1000

// Scan reads the registry into a Snapshot. A part that fails is recorded in the
// snapshot's Errors and the rest goes on; the error returned is only for a scan that
// could not start (no credentials, cancelled).
func (a *Account) Scan(ctx context.Context, scope Scope, progress func(Progress)) (*model.Snapshot, error) {
	watched := progress != nil
	if !watched {
		progress = func(Progress) {}
	}
	// copyFor is the snapshot a progress report carries: a copy of 5,000 repositories is
	// made only when someone receives it.
	copyFor := func(snap *model.Snapshot) *model.Snapshot {
		if !watched {
			return nil
		}
		return snap.Copy()
	}
	start := time.Now()
	a.forgetCredentials() // the probes after this scan read the secrets as they are now
	calls0, throttled0, failed0 := a.meter.snapshotStats()
	snap := &model.Snapshot{Region: a.aws.Region, TakenAt: start}
	var mu sync.Mutex
	addErr := func(part, op string, err error) {
		mu.Lock()
		snap.Errors = append(snap.Errors, partError(part, op, err))
		mu.Unlock()
	}

	// Identity, rules, templates, the registry policy and the repository listing do not
	// depend on each other: ask for them at once.
	var wg sync.WaitGroup
	var repos []model.Repository
	wg.Add(5)
	go func() {
		defer wg.Done()
		id, err := a.Whoami(ctx)
		if err != nil {
			addErr(model.PartIdentity, "GetCallerIdentity", err)
			return
		}
		mu.Lock()
		snap.Identity = model.Identity{Account: id.Account, ARN: id.ARN, UserID: id.UserID}
		snap.AccountID = id.Account
		mu.Unlock()
	}()
	go func() {
		defer wg.Done()
		rules, err := a.listRules(ctx)
		if err != nil {
			addErr(model.PartRules, "DescribePullThroughCacheRules", err)
		}
		mu.Lock()
		snap.Rules = rules
		mu.Unlock()
	}()
	go func() {
		defer wg.Done()
		tpls, err := a.listTemplates(ctx)
		if err != nil {
			addErr(model.PartTemplates, "DescribeRepositoryCreationTemplates", err)
		}
		mu.Lock()
		snap.Templates = tpls
		mu.Unlock()
	}()
	go func() {
		defer wg.Done()
		out, err := a.ecr.GetRegistryPolicy(ctx, &ecr.GetRegistryPolicyInput{})
		var nf *ecrtypes.RegistryPolicyNotFoundException
		switch {
		case errors.As(err, &nf):
		case err != nil:
			addErr(model.PartRegistryPolicy, "GetRegistryPolicy", err)
		default:
			mu.Lock()
			snap.RegistryPolicy = aws.ToString(out.PolicyText)
			mu.Unlock()
		}
	}()
	go func() {
		defer wg.Done()
		if scope.RulesOnly {
			return
		}
		var err error
		repos, err = a.listRepositories(ctx, scope)
		if err != nil {
			addErr(model.PartRepositories, "DescribeRepositories", err)
		}
	}()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	snap.Stats.FirstRules = time.Since(start)
	if snap.AccountID == "" { // STS refused: the registry id is in every rule and repository
		for _, r := range repos {
			if parts := strings.Split(r.ARN, ":"); len(parts) > 4 {
				snap.AccountID = parts[4]
				break
			}
		}
	}

	for i := range repos {
		if r := model.RuleFor(snap.Rules, repos[i].Name); r != nil {
			repos[i].RulePrefix = r.Prefix
		}
	}
	if scope.Rule != "" {
		kept := repos[:0]
		for _, r := range repos {
			if r.RulePrefix == scope.Rule {
				kept = append(kept, r)
			}
		}
		repos = kept
	}
	snap.Repositories = repos
	progress(Progress{Stage: "rules", Snapshot: copyFor(snap)})
	snap.Stats.FirstRepos = time.Since(start)
	progress(Progress{Stage: "repositories", Snapshot: copyFor(snap), ReposTotal: len(repos)})

	// Rule validation and secrets, and each repository's images and lifecycle policy, on
	// Concurrency workers: one goroutine per repository, waiting, was 5,000 goroutines and
	// their stacks at 100,000 images; one per repository started when a slot was free
	// grew a new stack through the SDK's calls each time (5 % of a fleet's CPU).
	jobs := make(chan func())
	for range a.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				f()
			}
		}()
	}
	run := func(f func()) {
		select {
		case jobs <- f:
		case <-ctx.Done():
		}
	}
	secrets := map[string]*model.SecretRef{}
	for i := range snap.Rules {
		r := &snap.Rules[i]
		if scope.Rule != "" && r.Prefix != scope.Rule {
			continue
		}
		if r.CredentialArn == "" {
			continue // ValidatePullThroughCacheRule is for rules with credentials
		}
		run(func() { r.Validation = a.validateRule(ctx, r.Prefix) })
		if _, ok := secrets[r.CredentialArn]; !ok {
			ref := &model.SecretRef{ARN: r.CredentialArn}
			secrets[r.CredentialArn] = ref
			run(func() { a.describeSecret(ctx, ref) })
		}
	}
	var done, images int
	total := len(snap.Repositories)
	for i := range snap.Repositories {
		repo := &snap.Repositories[i]
		run(func() {
			a.scanRepository(ctx, repo, snap.Templates, addErr)
			mu.Lock()
			done++
			images += len(repo.Images)
			p := Progress{Stage: "images", ReposDone: done, ReposTotal: total, Images: images}
			mu.Unlock()
			progress(p)
		})
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i := range snap.Rules {
		if s, ok := secrets[snap.Rules[i].CredentialArn]; ok {
			snap.Rules[i].Secret = s
		}
		// A validation or a secret's metadata that could not be read is a part of the scan
		// that failed, whatever check asks for it (a secret in another region is not looked
		// up on purpose: that is what is found, not a failed read).
		if v := snap.Rules[i].Validation; v != nil && v.Error != nil {
			snap.Errors = append(snap.Errors, *v.Error)
		}
	}
	for _, s := range secrets {
		if s.Error != nil && !strings.HasPrefix(s.Error.Message, "the secret is in region") {
			snap.Errors = append(snap.Errors, *s.Error)
		}
	}
	sort.Slice(snap.Errors, func(i, j int) bool { return snap.Errors[i].Part < snap.Errors[j].Part })

	calls1, throttled1, failed1 := a.meter.snapshotStats()
	snap.Stats.Calls, snap.Stats.Throttled = diff(calls1, calls0), diff(throttled1, throttled0)
	snap.Stats.Retried = failed1 - failed0
	snap.Stats.Complete = time.Since(start)
	snap.Stats.ImagesScanned, snap.Stats.ReposScanned = images, done
	for _, r := range snap.Rules {
		if r.Validation != nil {
			snap.Stats.RulesValidated++
		}
	}
	progress(Progress{Stage: "done", Snapshot: snap, ReposDone: done, ReposTotal: total, Images: images})
	return snap, nil
}

func diff(now, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range now {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// partError records a failed call with AWS's code and message.
func partError(part, op string, err error) model.PartError {
	pe := model.PartError{Part: part, Operation: op, Message: err.Error()}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		pe.Code, pe.Message = ae.ErrorCode(), ae.ErrorMessage()
	}
	pe.Message = model.Printable(pe.Message)
	return pe
}

func (a *Account) listRules(ctx context.Context) ([]model.Rule, error) {
	var out []model.Rule
	p := ecr.NewDescribePullThroughCacheRulesPaginator(a.ecr, &ecr.DescribePullThroughCacheRulesInput{MaxResults: aws.Int32(maxPage)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, r := range page.PullThroughCacheRules {
			out = append(out, model.Rule{
				Prefix: strings.TrimSuffix(aws.ToString(r.EcrRepositoryPrefix), "/"), UpstreamRegistry: string(r.UpstreamRegistry),
				UpstreamURL: aws.ToString(r.UpstreamRegistryUrl), CredentialArn: aws.ToString(r.CredentialArn),
				CustomRoleArn: aws.ToString(r.CustomRoleArn), UpstreamPrefix: aws.ToString(r.UpstreamRepositoryPrefix),
				CreatedAt: aws.ToTime(r.CreatedAt), UpdatedAt: aws.ToTime(r.UpdatedAt),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Prefix < out[j].Prefix })
	return out, nil
}

func (a *Account) listTemplates(ctx context.Context) ([]model.Template, error) {
	var out []model.Template
	p := ecr.NewDescribeRepositoryCreationTemplatesPaginator(a.ecr, &ecr.DescribeRepositoryCreationTemplatesInput{MaxResults: aws.Int32(maxPage)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, t := range page.RepositoryCreationTemplates {
			tpl := model.Template{Prefix: aws.ToString(t.Prefix), Description: aws.ToString(t.Description),
				ImageTagMutability: string(t.ImageTagMutability), RepositoryPolicy: aws.ToString(t.RepositoryPolicy),
				LifecyclePolicy: aws.ToString(t.LifecyclePolicy), CustomRoleArn: aws.ToString(t.CustomRoleArn),
				CreatedAt: aws.ToTime(t.CreatedAt), UpdatedAt: aws.ToTime(t.UpdatedAt)}
			for _, af := range t.AppliedFor {
				tpl.AppliedFor = append(tpl.AppliedFor, string(af))
			}
			if e := t.EncryptionConfiguration; e != nil {
				tpl.EncryptionType, tpl.KMSKey = string(e.EncryptionType), aws.ToString(e.KmsKey)
			}
			tpl.MutabilityExclusions = exclusionPatterns(t.ImageTagMutabilityExclusionFilters)
			if len(t.ResourceTags) > 0 {
				tpl.ResourceTags = map[string]string{}
				for _, tg := range t.ResourceTags {
					tpl.ResourceTags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
				}
			}
			out = append(out, tpl)
		}
	}
	return out, nil
}

func (a *Account) listRepositories(ctx context.Context, scope Scope) ([]model.Repository, error) {
	var out []model.Repository
	// What is kept is copied out of the page (whose strings share the SDK's arenas, alive
	// while one of them is): the names and ARNs, the enums interned; the URI is not kept,
	// nothing reads it.
	add := func(rs []ecrtypes.Repository) {
		for _, r := range rs {
			repo := model.Repository{Name: strings.Clone(aws.ToString(r.RepositoryName)), ARN: strings.Clone(aws.ToString(r.RepositoryArn)),
				CreatedAt: aws.ToTime(r.CreatedAt), ImageTagMutability: intern(string(r.ImageTagMutability))}
			if r.EncryptionConfiguration != nil {
				repo.EncryptionType = intern(string(r.EncryptionConfiguration.EncryptionType))
				repo.KMSKey = strings.Clone(aws.ToString(r.EncryptionConfiguration.KmsKey))
			}
			repo.MutabilityExclusions = exclusionPatterns(r.ImageTagMutabilityExclusionFilters)
			for i, f := range repo.MutabilityExclusions {
				repo.MutabilityExclusions[i] = strings.Clone(f)
			}
			out = append(out, repo)
		}
	}
	if len(scope.Repositories) > 0 {
		// One at a time: a name that does not exist fails only its own call.
		for _, name := range scope.Repositories {
			resp, err := a.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
			var nf *ecrtypes.RepositoryNotFoundException
			if errors.As(err, &nf) {
				continue
			}
			if err != nil {
				return out, err
			}
			add(resp.Repositories)
		}
	} else {
		p := ecr.NewDescribeRepositoriesPaginator(a.ecr, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(maxPage)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return out, err
			}
			add(page.Repositories)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (a *Account) validateRule(ctx context.Context, prefix string) *model.Validation {
	out, err := a.ecr.ValidatePullThroughCacheRule(ctx, &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(prefix)})
	if err != nil {
		pe := partError("rule "+prefix+" validation", "ValidatePullThroughCacheRule", err)
		return &model.Validation{Error: &pe}
	}
	return &model.Validation{IsValid: out.IsValid, Failure: model.Printable(aws.ToString(out.Failure))}
}

// describeSecret reads a secret's metadata, never its value. A secret in another region
// is not looked up: the registry's region is the one ECR reads it from.
func (a *Account) describeSecret(ctx context.Context, ref *model.SecretRef) {
	parts := strings.SplitN(ref.ARN, ":", 7)
	if len(parts) == 7 {
		ref.Region = parts[3]
		name := parts[6]
		if i := strings.LastIndex(name, "-"); i > 0 && len(name)-i == 7 {
			name = name[:i]
		}
		ref.Name = name
	}
	if ref.Region != "" && ref.Region != a.aws.Region {
		ref.Error = &model.PartError{Part: "secret " + ref.Name, Operation: "DescribeSecret",
			Message: "the secret is in region " + ref.Region + ", not in " + a.aws.Region}
		return
	}
	out, err := a.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ref.ARN)})
	if err != nil {
		pe := partError("secret "+ref.Name, "DescribeSecret", err)
		if pe.Code == "ResourceNotFoundException" {
			return // Exists stays false: that is the finding, not a scan failure
		}
		ref.Error = &pe
		return
	}
	ref.Exists = true
	ref.Name = aws.ToString(out.Name)
	ref.KMSKeyID = aws.ToString(out.KmsKeyId)
	ref.LastChanged = aws.ToTime(out.LastChangedDate)
	ref.Deleted = out.DeletedDate != nil
}

// scanRepository lists a repository's images (all pages, tagged and untagged), reads a
// cache repository's lifecycle policy, and for its indexes which platforms are cached.
func (a *Account) scanRepository(ctx context.Context, repo *model.Repository, templates []model.Template, addErr func(part, op string, err error)) {
	p := ecr.NewDescribeImagesPaginator(a.ecr, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo.Name),
		MaxResults: aws.Int32(maxPage), Filter: &ecrtypes.DescribeImagesFilter{TagStatus: ecrtypes.TagStatusAny}})
	repo.ImagesKnown = true
	var pages [][]model.Image // each page's images in a slice of their number, joined once
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			addErr(model.PartImages(repo.Name), "DescribeImages", err)
			repo.ImagesKnown = false
			break
		}
		pages = append(pages, appendImages(make([]model.Image, 0, len(page.ImageDetails)), page.ImageDetails))
	}
	repo.Images = join(pages)
	if repo.IsCache() {
		out, err := a.ecr.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(repo.Name)})
		var nf *ecrtypes.LifecyclePolicyNotFoundException
		switch {
		case errors.As(err, &nf):
			repo.LifecycleKnown = true
		case err != nil:
			addErr(model.PartLifecycle(repo.Name), "GetLifecyclePolicy", err)
		default:
			// Interned: the repositories a creation template made share its policy's text.
			repo.LifecycleKnown, repo.LifecyclePolicy = true, intern(aws.ToString(out.LifecyclePolicyText))
		}
	}
	if repo.ImagesKnown {
		a.readIndexes(ctx, repo, addErr)
	}
	if repo.IsCache() && model.TemplateFor(templates, repo.Name) != nil {
		a.readRepositorySettings(ctx, repo, addErr)
	}
}

var manifestMediaTypes = []string{
	"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
}

// readIndexes reads the repository's index manifests, 100 to a call, by digest: a pull by
// digest of a cached manifest never pulls through nor re-checks the upstream. (It may
// count as a pull for lastRecordedPullTime; a pull-time update exclusion for ptcdoctor's
// role avoids that.)
func (a *Account) readIndexes(ctx context.Context, repo *model.Repository, addErr func(part, op string, err error)) {
	var ids []ecrtypes.ImageIdentifier
	at := map[model.Digest]int{}
	for i, img := range repo.Images {
		if img.IsIndex() {
			ids = append(ids, ecrtypes.ImageIdentifier{ImageDigest: aws.String(img.Digest.String())})
			at[img.Digest] = i
		}
	}
	if len(ids) == 0 {
		return // most repositories: no map of their digests to build
	}
	present := make(map[model.Digest]bool, len(repo.Images))
	for _, img := range repo.Images {
		present[img.Digest] = true
	}
	for len(ids) > 0 {
		n := min(100, len(ids))
		out, err := a.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(repo.Name),
			ImageIds: ids[:n], AcceptedMediaTypes: manifestMediaTypes})
		ids = ids[n:]
		if err != nil {
			addErr(model.PartIndexes(repo.Name), "BatchGetImage", err)
			return
		}
		for _, im := range out.Images {
			var idx struct {
				Manifests []struct {
					Digest   string `json:"digest"`
					Platform *struct {
						OS           string `json:"os"`
						Architecture string `json:"architecture"`
						Variant      string `json:"variant"`
					} `json:"platform"`
				} `json:"manifests"`
			}
			if json.Unmarshal([]byte(aws.ToString(im.ImageManifest)), &idx) != nil {
				continue
			}
			i, ok := at[model.ParseDigest(aws.ToString(im.ImageId.ImageDigest))]
			if !ok {
				continue // not one asked for: nothing to attach it to
			}
			children := make([]model.ChildManifest, 0, len(idx.Manifests))
			for _, m := range idx.Manifests {
				plat := ""
				if p := m.Platform; p != nil {
					plat = p.OS + "/" + p.Architecture
					if p.Variant != "" {
						plat += "/" + p.Variant
					}
				}
				children = append(children, model.ChildManifest{Digest: m.Digest, Platform: intern(plat), Present: present[model.ParseDigest(m.Digest)]})
			}
			repo.Images[i].SetChildren(append(repo.Images[i].Children(), children...))
		}
	}
}

// What a scan keeps of an image is stored compactly (issue 15: 100,000 images in one
// account; model/compact.go). The SDK decodes a page's strings into shared arenas, so one
// string kept from a page keeps the whole page's text alive: a sha256 digest is kept as
// its bytes, the strings few and shared (media types, platforms) are interned, and the
// page's tags are copied out together.

// appendImages adds a page's images to imgs. The page's tags are copied into one string
// and one slice, two allocations for the page rather than two for each image. (Interning
// tags would share "latest" across repositories, but costs some 50 bytes a distinct tag,
// and most tags are one image's own version.)
func appendImages(imgs []model.Image, page []ecrtypes.ImageDetail) []model.Image {
	n, size := 0, 0
	for _, d := range page {
		n += len(d.ImageTags)
		for _, t := range d.ImageTags {
			size += len(t)
		}
	}
	var b strings.Builder
	b.Grow(size)
	for _, d := range page {
		for _, t := range d.ImageTags {
			b.WriteString(t)
		}
	}
	text, tags := b.String(), make([]string, 0, n)
	for _, d := range page {
		k := len(tags)
		for _, t := range d.ImageTags {
			tags, text = append(tags, text[:len(t)]), text[len(t):]
		}
		img := model.Image{Digest: model.ParseDigest(aws.ToString(d.ImageDigest)),
			MediaType: model.MediaTypeOf(aws.ToString(d.ImageManifestMediaType)), SizeBytes: aws.ToInt64(d.ImageSizeInBytes),
			PushedAt: model.UnixTimeOf(aws.ToTime(d.ImagePushedAt)), LastPull: model.UnixTimeOf(aws.ToTime(d.LastRecordedPullTime))}
		if len(tags) > k {
			img.Tags = tags[k:len(tags):len(tags)] // full: an append to one image's tags never writes over the next's
			sort.Strings(img.Tags)
		}
		imgs = append(imgs, img)
	}
	return imgs
}

// intern returns the one shared copy of s.
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

// join returns the pages' images in one slice of their number. A repository of 100,000
// images is 100 pages: appending page after page to one slice would copy it at each
// doubling and leave up to half of it unused, then copy it once more to trim it.
func join(pages [][]model.Image) []model.Image {
	switch len(pages) {
	case 0:
		return nil
	case 1: // one page, the common case: nothing to copy
		return pages[0]
	}
	n := 0
	for _, p := range pages {
		n += len(p)
	}
	out := make([]model.Image, 0, n)
	for _, p := range pages {
		out = append(out, p...)
	}
	return out
}
