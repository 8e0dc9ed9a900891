package ui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/table"
	"charm.land/lipgloss/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// A list screen is a table whose rows point back at what they show.
type listing struct {
	columns []table.Column
	rows    []table.Row
	refs    []any // *model.Rule, *model.Repository, imageRef, *model.Finding, JournalRow
	// nums holds, for the columns that show a quantity (a size, an age, a count of
	// findings), the number each row sorts by; other columns sort by their text.
	nums map[int][]float64
}

// sorting is a list's order: by column col (-1: the natural order), descending or not.
type sorting struct {
	col  int
	desc bool
}

// sortListing orders the rows, and their refs, by one column; ties keep the
// natural order. The column's title carries the direction.
func sortListing(l listing, by sorting) listing {
	if by.col < 0 || by.col >= len(l.columns) || len(l.rows) == 0 {
		return l
	}
	idx := make([]int, len(l.rows))
	for i := range idx {
		idx[i] = i
	}
	nums := l.nums[by.col]
	less := func(a, b int) int {
		if nums != nil {
			return cmp.Compare(nums[a], nums[b])
		}
		return strings.Compare(strings.ToLower(l.rows[a][by.col]), strings.ToLower(l.rows[b][by.col]))
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if by.desc {
			return less(b, a)
		}
		return less(a, b)
	})
	out := l.pick(idx)
	out.columns = slices.Clone(l.columns)
	arrow := " ▲"
	if by.desc {
		arrow = " ▼"
	}
	out.columns[by.col].Title += arrow
	return out
}

// pick is the listing of the rows idx names, in that order, their refs and
// numbers with them.
func (l listing) pick(idx []int) listing {
	out := listing{columns: l.columns, rows: make([]table.Row, len(idx)), refs: make([]any, len(idx))}
	for i, j := range idx {
		out.rows[i], out.refs[i] = l.rows[j], l.refs[j]
	}
	if l.nums != nil {
		out.nums = make(map[int][]float64, len(l.nums))
		for col, nums := range l.nums {
			picked := make([]float64, len(idx))
			for i, j := range idx {
				picked[i] = nums[j]
			}
			out.nums[col] = picked
		}
	}
	return out
}

// num records the number the next row of column col sorts by.
func (l *listing) num(col int, v float64) {
	if l.nums == nil {
		l.nums = map[int][]float64{}
	}
	l.nums[col] = append(l.nums[col], v)
}

// severityWeight orders rows by their worst findings: errors, then warnings, then notes.
func severityWeight(fs []*model.Finding) float64 {
	var w float64
	for _, f := range fs {
		switch f.Severity {
		case model.SeverityError:
			w += 1e6
		case model.SeverityWarning:
			w += 1e3
		default:
			w++
		}
	}
	return w
}

// age is how long ago t was, in seconds; never sorts as the oldest.
func age(t, now time.Time) float64 {
	if t.IsZero() {
		return math.Inf(1)
	}
	return now.Sub(t).Seconds()
}

type imageRef struct {
	repo *model.Repository
	img  *model.Image
}

// fit sizes the columns to the rows they show. Each column takes what its
// longest cell needs, up to its declared width, so a short column gives its room
// to a long one; room left over goes to the columns still cut short (the one cut
// most first), then to the last column. On a terminal too narrow for that, the
// widest columns shrink first.
func fit(cols []table.Column, rows []table.Row, width int) []table.Column {
	n := len(cols)
	need := make([]int, n)
	for i, c := range cols {
		need[i] = max(1, cellWidth(c.Title))
	}
	for _, r := range rows {
		for i := 0; i < n && i < len(r); i++ {
			need[i] = max(need[i], cellWidth(r[i]))
		}
	}
	out := make([]table.Column, n)
	total := 0
	for i, c := range cols {
		out[i] = table.Column{Title: c.Title, Width: min(c.Width, need[i])}
		total += out[i].Width + 2
	}
	for total < width {
		short := -1
		for i := range out {
			if gap := need[i] - out[i].Width; gap > 0 && (short < 0 || gap > need[short]-out[short].Width) {
				short = i
			}
		}
		if short < 0 {
			out[n-1].Width += width - total
			break
		}
		out[short].Width++
		total++
	}
	for total > width {
		widest := 0
		for i, c := range out {
			if c.Width > out[widest].Width {
				widest = i
			}
		}
		if out[widest].Width <= 4 {
			break
		}
		out[widest].Width--
		total--
	}
	return out
}

// cellWidth is the terminal width of a cell; most are ASCII, and a list can
// hold a hundred thousand rows.
func cellWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return lipgloss.Width(s)
		}
	}
	return len(s)
}

func sevCounts(fs []*model.Finding) string {
	var e, w, i int
	for _, f := range fs {
		switch f.Severity {
		case model.SeverityError:
			e++
		case model.SeverityWarning:
			w++
		default:
			i++
		}
	}
	if e+w+i == 0 {
		return "-"
	}
	var parts []string
	if e > 0 {
		parts = append(parts, fmt.Sprintf("%dE", e))
	}
	if w > 0 {
		parts = append(parts, fmt.Sprintf("%dW", w))
	}
	if i > 0 {
		parts = append(parts, fmt.Sprintf("%dI", i))
	}
	return strings.Join(parts, " ")
}

// findingsAbout lists the findings whose subject is a rule, repository or image.
func findingsAbout(fs []model.Finding, kind, name string) []*model.Finding {
	var out []*model.Finding
	for i := range fs {
		f := &fs[i]
		switch {
		case f.Subject.Kind == kind && f.Subject.Name == name:
			out = append(out, f)
		case kind == "repository" && f.Subject.Kind == "image" && strings.HasPrefix(f.Subject.Name, name+":"):
			out = append(out, f)
		case kind == "rule" && f.Subject.Kind == "principal" && strings.Contains(f.Title, " "+name+"/"):
			out = append(out, f)
		}
	}
	return out
}

func rulesListing(snap *model.Snapshot, fs []model.Finding) listing {
	l := listing{columns: []table.Column{{Title: "PREFIX", Width: 14}, {Title: "UPSTREAM", Width: 22}, {Title: "CREDENTIALS", Width: 24},
		{Title: "VALID", Width: 7}, {Title: "REPOS", Width: 5}, {Title: "IMAGES", Width: 6}, {Title: "FINDINGS", Width: 10}}}
	for i := range snap.Rules {
		r := &snap.Rules[i]
		creds := "none"
		if r.Secret != nil && r.Secret.Name != "" {
			creds = r.Secret.Name
		} else if r.CredentialArn != "" {
			creds = r.CredentialArn
		}
		valid := "-"
		if v := r.Validation; v != nil {
			switch {
			case v.Error != nil:
				valid = "error"
			case v.IsValid:
				valid = "yes"
			default:
				valid = "NO"
			}
		}
		repos, images := 0, 0
		for _, repo := range snap.Repositories {
			if repo.RulePrefix == r.Prefix {
				repos++
				images += len(repo.Images)
			}
		}
		about := findingsAbout(fs, "rule", r.Prefix)
		l.rows = append(l.rows, table.Row{r.Prefix + "/", r.UpstreamURL, strings.TrimPrefix(creds, "ecr-pullthroughcache/"), valid,
			fmt.Sprint(repos), fmt.Sprint(images), sevCounts(about)})
		l.refs = append(l.refs, r)
		l.num(4, float64(repos))
		l.num(5, float64(images))
		l.num(6, severityWeight(about))
	}
	return l
}

func reposListing(snap *model.Snapshot, fs []model.Finding, rule string, now time.Time) listing {
	l := listing{columns: []table.Column{{Title: "REPOSITORY", Width: 34}, {Title: "RULE", Width: 12}, {Title: "IMAGES", Width: 6},
		{Title: "SIZE", Width: 8}, {Title: "LAST PULL", Width: 10}, {Title: "FINDINGS", Width: 10}}}
	for i := range snap.Repositories {
		r := &snap.Repositories[i]
		if rule != "" && r.RulePrefix != rule {
			continue
		}
		ruleCol := r.RulePrefix
		if ruleCol == "" {
			ruleCol = "(none)"
		}
		var size int64
		var last time.Time
		for _, img := range r.Images {
			size += img.SizeBytes
			if img.LastPull.After(last) {
				last = img.LastPull
			}
		}
		images := fmt.Sprint(len(r.Images))
		if !r.ImagesKnown {
			images = "?"
		}
		about := findingsAbout(fs, "repository", r.Name)
		l.rows = append(l.rows, table.Row{r.Name, ruleCol, images, humanBytes(size), ago(last, now), sevCounts(about)})
		l.refs = append(l.refs, r)
		l.num(2, float64(len(r.Images)))
		l.num(3, float64(size))
		l.num(4, age(last, now))
		l.num(5, severityWeight(about))
	}
	return l
}

func imagesListing(repo *model.Repository, upstream map[string]string, now time.Time) listing {
	l := listing{columns: []table.Column{{Title: "TAGS", Width: 14}, {Title: "DIGEST", Width: 19}, {Title: "TYPE", Width: 6},
		{Title: "PUSHED", Width: 9}, {Title: "LAST PULL", Width: 9}, {Title: "UPSTREAM", Width: 12}, {Title: "PLATFORMS", Width: 20}}}
	imgs := make([]*model.Image, 0, len(repo.Images))
	for i := range repo.Images {
		imgs = append(imgs, &repo.Images[i])
	}
	sort.SliceStable(imgs, func(i, j int) bool { return len(imgs[i].Tags) > len(imgs[j].Tags) })
	for _, img := range imgs {
		kind := "image"
		platforms := ""
		if img.IsIndex() {
			kind = "index"
			var parts []string
			for _, c := range img.Children {
				if c.Present {
					parts = append(parts, c.Platform)
				} else {
					parts = append(parts, c.Platform+" MISSING")
				}
			}
			platforms = strings.Join(parts, ", ")
		}
		tags := strings.Join(img.Tags, ",")
		if tags == "" {
			tags = "<untagged>"
		}
		l.rows = append(l.rows, table.Row{model.Printable(tags), shortDigest(img.Digest), kind, ago(img.PushedAt, now), ago(img.LastPull, now),
			upstreamState(img, upstream), platforms})
		l.refs = append(l.refs, imageRef{repo, img})
		l.num(3, age(img.PushedAt, now))
		l.num(4, age(img.LastPull, now))
	}
	return l
}

func findingsListing(fs []model.Finding) listing {
	l := listing{columns: []table.Column{{Title: "#", Width: 3}, {Title: "SEV", Width: 5}, {Title: "CHECK", Width: 19}, {Title: "SUBJECT", Width: 26}, {Title: "TITLE", Width: 20}}}
	for i := range fs {
		f := &fs[i]
		l.rows = append(l.rows, table.Row{fmt.Sprint(i + 1), sevLabel[f.Severity], f.Check, model.Printable(f.Subject.Name), model.Printable(f.Title)})
		l.refs = append(l.refs, f)
		l.num(0, float64(i+1))
		l.num(1, severityWeight([]*model.Finding{f}))
	}
	return l
}

var sevLabel = map[model.Severity]string{model.SeverityError: "ERR", model.SeverityWarning: "WARN", model.SeverityInfo: "INFO"}

func journalListing(rows []JournalRow) listing {
	l := listing{columns: []table.Column{{Title: "WHEN", Width: 19}, {Title: "OPERATION", Width: 34}, {Title: "TARGET", Width: 26},
		{Title: "OUTCOME", Width: 8}, {Title: "UNDO", Width: 4}, {Title: "PLAN", Width: 12}}}
	for i := len(rows) - 1; i >= 0; i-- {
		r := rows[i]
		undo := "-"
		if r.Undoable {
			undo = "yes"
		}
		l.rows = append(l.rows, table.Row{r.When.Local().Format("2006-01-02 15:04:05"), model.Printable(r.Operation), model.Printable(r.Target), model.Printable(r.Outcome), undo, r.Plan})
		l.refs = append(l.refs, r)
	}
	return l
}

// filterListing keeps the rows that fuzzily match the filter: its letters in order.
func filterListing(l listing, filter string) listing {
	if filter == "" {
		return l
	}
	var keep []int
	for i, r := range l.rows {
		if fuzzyMatch(strings.ToLower(filter), strings.ToLower(strings.Join(r, " "))) {
			keep = append(keep, i)
		}
	}
	return l.pick(keep)
}

func fuzzyMatch(pattern, s string) bool {
	for _, r := range pattern {
		i := strings.IndexRune(s, r)
		if i < 0 {
			return false
		}
		s = s[i+len(string(r)):]
	}
	return true
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// ago says how long ago t was, to the unit that matters.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

// upstreamState compares a cached image with its tag's digest upstream, once probed.
func upstreamState(img *model.Image, upstream map[string]string) string {
	if len(img.Tags) == 0 || upstream == nil {
		return ""
	}
	d, ok := upstream[img.Tags[0]]
	switch {
	case !ok:
		return ""
	case d == img.Digest:
		return "same"
	case strings.HasPrefix(d, "?"):
		return d
	}
	return "MOVED " + shortDigest(d)[7:]
}
