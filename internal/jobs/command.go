package jobs

import (
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/batch/types"
)

// jobCommand is how the job definition's default command runs batchxray.
var jobCommand = []string{"batchxray", "job"}

// containerCommand is the command override that runs the user's cmd under
// tracing on the job definition def. A job definition with a command (the
// default image, or --image, where the image has no entrypoint) runs
// `batchxray job -- CMD`; one with no command (up --base-image) is an image
// whose entrypoint is already `batchxray job --` before the base's own, so
// Docker's rules append cmd to it and cmd goes as it is. An empty cmd is no
// override.
func containerCommand(def *types.JobDefinition, cmd []string) []string {
	if len(cmd) == 0 {
		return nil
	}
	if def != nil && def.ContainerProperties != nil && len(def.ContainerProperties.Command) == 0 {
		return slices.Clone(cmd)
	}
	return append(append(slices.Clone(jobCommand), "--"), cmd...)
}
