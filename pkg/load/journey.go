package load

import "errors"

// errNoJourneys refuses a scenario plan: the spec validates scenarios and
// the plan splits their journeys and data rows, but this engine does not
// run journeys yet (their building blocks are in pkg/journey), so a
// scenario is refused at prepare with this message rather than run as
// something else.
var errNoJourneys = errors.New("scenario: this load engine does not run scenarios yet (steps, extraction and checks are validated only)")
