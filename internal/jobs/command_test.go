package jobs

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/google/go-cmp/cmp"
)

func TestContainerCommand(t *testing.T) {
	withCommand := &types.JobDefinition{ContainerProperties: &types.ContainerProperties{Command: []string{"batchxray", "job"}}}
	noCommand := &types.JobDefinition{ContainerProperties: &types.ContainerProperties{}}
	for _, tc := range []struct {
		name string
		def  *types.JobDefinition
		cmd  []string
		want []string
	}{
		{"default image", withCommand, []string{"sh", "-c", "exit 0"}, []string{"batchxray", "job", "--", "sh", "-c", "exit 0"}},
		{"base image", noCommand, []string{"sh", "-c", "exit 0"}, []string{"sh", "-c", "exit 0"}},
		{"default image, no command", withCommand, nil, nil},
		{"base image, no command: the image's own", noCommand, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, containerCommand(tc.def, tc.cmd)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
