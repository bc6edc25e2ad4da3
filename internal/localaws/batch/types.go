package batch

// The wire shapes of the Batch API, with the JSON names the AWS SDK
// (aws-sdk-go-v2/service/batch) reads and writes. Only the fields the
// stand-in keeps are listed; the SDK ignores what it does not find.

type keyValuePair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type resourceRequirement struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type logConfiguration struct {
	LogDriver string            `json:"logDriver,omitempty"`
	Options   map[string]string `json:"options,omitempty"`
}

type ec2Configuration struct {
	ImageType       string `json:"imageType,omitempty"`
	ImageIDOverride string `json:"imageIdOverride,omitempty"`
}

type launchTemplate struct {
	LaunchTemplateID   string `json:"launchTemplateId,omitempty"`
	LaunchTemplateName string `json:"launchTemplateName,omitempty"`
	Version            string `json:"version,omitempty"`
}

type computeResources struct {
	Type               string             `json:"type,omitempty"`
	AllocationStrategy string             `json:"allocationStrategy,omitempty"`
	MinvCpus           *int32             `json:"minvCpus,omitempty"`
	MaxvCpus           *int32             `json:"maxvCpus,omitempty"`
	DesiredvCpus       *int32             `json:"desiredvCpus,omitempty"`
	InstanceTypes      []string           `json:"instanceTypes,omitempty"`
	ImageID            string             `json:"imageId,omitempty"`
	Subnets            []string           `json:"subnets,omitempty"`
	SecurityGroupIDs   []string           `json:"securityGroupIds,omitempty"`
	Ec2KeyPair         string             `json:"ec2KeyPair,omitempty"`
	InstanceRole       string             `json:"instanceRole,omitempty"`
	Tags               map[string]string  `json:"tags,omitempty"`
	PlacementGroup     string             `json:"placementGroup,omitempty"`
	BidPercentage      *int32             `json:"bidPercentage,omitempty"`
	SpotIamFleetRole   string             `json:"spotIamFleetRole,omitempty"`
	LaunchTemplate     *launchTemplate    `json:"launchTemplate,omitempty"`
	Ec2Configuration   []ec2Configuration `json:"ec2Configuration,omitempty"`
}

type computeEnvironmentDetail struct {
	ComputeEnvironmentName string            `json:"computeEnvironmentName"`
	ComputeEnvironmentArn  string            `json:"computeEnvironmentArn"`
	UUID                   string            `json:"uuid,omitempty"`
	EcsClusterArn          string            `json:"ecsClusterArn,omitempty"`
	Tags                   map[string]string `json:"tags,omitempty"`
	Type                   string            `json:"type,omitempty"`
	State                  string            `json:"state,omitempty"`
	Status                 string            `json:"status,omitempty"`
	StatusReason           string            `json:"statusReason,omitempty"`
	ComputeResources       *computeResources `json:"computeResources,omitempty"`
	ServiceRole            string            `json:"serviceRole,omitempty"`
	UnmanagedvCpus         *int32            `json:"unmanagedvCpus,omitempty"`
	ContainerOrchestration string            `json:"containerOrchestrationType,omitempty"`
}

type computeEnvironmentOrder struct {
	Order              int32  `json:"order"`
	ComputeEnvironment string `json:"computeEnvironment"`
}

type jobQueueDetail struct {
	JobQueueName            string                    `json:"jobQueueName"`
	JobQueueArn             string                    `json:"jobQueueArn"`
	State                   string                    `json:"state,omitempty"`
	Status                  string                    `json:"status,omitempty"`
	StatusReason            string                    `json:"statusReason,omitempty"`
	Priority                int32                     `json:"priority"`
	ComputeEnvironmentOrder []computeEnvironmentOrder `json:"computeEnvironmentOrder"`
	Tags                    map[string]string         `json:"tags,omitempty"`
	JobQueueType            string                    `json:"jobQueueType,omitempty"`
}

type containerProperties struct {
	Image                string                `json:"image,omitempty"`
	Vcpus                *int32                `json:"vcpus,omitempty"`
	Memory               *int32                `json:"memory,omitempty"`
	Command              []string              `json:"command,omitempty"`
	JobRoleArn           string                `json:"jobRoleArn,omitempty"`
	ExecutionRoleArn     string                `json:"executionRoleArn,omitempty"`
	Environment          []keyValuePair        `json:"environment,omitempty"`
	Privileged           *bool                 `json:"privileged,omitempty"`
	User                 string                `json:"user,omitempty"`
	InstanceType         string                `json:"instanceType,omitempty"`
	ResourceRequirements []resourceRequirement `json:"resourceRequirements,omitempty"`
	LogConfiguration     *logConfiguration     `json:"logConfiguration,omitempty"`
}

type evaluateOnExit struct {
	OnStatusReason string `json:"onStatusReason,omitempty"`
	OnReason       string `json:"onReason,omitempty"`
	OnExitCode     string `json:"onExitCode,omitempty"`
	Action         string `json:"action"`
}

type retryStrategy struct {
	Attempts       int32            `json:"attempts,omitempty"`
	EvaluateOnExit []evaluateOnExit `json:"evaluateOnExit,omitempty"`
}

type jobTimeout struct {
	AttemptDurationSeconds int32 `json:"attemptDurationSeconds,omitempty"`
}

type jobDefinition struct {
	JobDefinitionName      string               `json:"jobDefinitionName"`
	JobDefinitionArn       string               `json:"jobDefinitionArn"`
	Revision               int32                `json:"revision"`
	Status                 string               `json:"status,omitempty"`
	Type                   string               `json:"type"`
	Parameters             map[string]string    `json:"parameters,omitempty"`
	RetryStrategy          *retryStrategy       `json:"retryStrategy,omitempty"`
	ContainerProperties    *containerProperties `json:"containerProperties,omitempty"`
	Timeout                *jobTimeout          `json:"timeout,omitempty"`
	Tags                   map[string]string    `json:"tags,omitempty"`
	PropagateTags          *bool                `json:"propagateTags,omitempty"`
	PlatformCapabilities   []string             `json:"platformCapabilities,omitempty"`
	ContainerOrchestration string               `json:"containerOrchestrationType,omitempty"`
}

type jobDependency struct {
	JobID string `json:"jobId,omitempty"`
	Type  string `json:"type,omitempty"`
}

type containerDetail struct {
	Image                string                `json:"image,omitempty"`
	Vcpus                *int32                `json:"vcpus,omitempty"`
	Memory               *int32                `json:"memory,omitempty"`
	Command              []string              `json:"command,omitempty"`
	JobRoleArn           string                `json:"jobRoleArn,omitempty"`
	ExecutionRoleArn     string                `json:"executionRoleArn,omitempty"`
	Environment          []keyValuePair        `json:"environment,omitempty"`
	ExitCode             *int32                `json:"exitCode,omitempty"`
	Reason               string                `json:"reason,omitempty"`
	ContainerInstanceArn string                `json:"containerInstanceArn,omitempty"`
	TaskArn              string                `json:"taskArn,omitempty"`
	LogStreamName        string                `json:"logStreamName,omitempty"`
	InstanceType         string                `json:"instanceType,omitempty"`
	ResourceRequirements []resourceRequirement `json:"resourceRequirements,omitempty"`
	LogConfiguration     *logConfiguration     `json:"logConfiguration,omitempty"`
}

type attemptContainerDetail struct {
	ContainerInstanceArn string `json:"containerInstanceArn,omitempty"`
	TaskArn              string `json:"taskArn,omitempty"`
	ExitCode             *int32 `json:"exitCode,omitempty"`
	Reason               string `json:"reason,omitempty"`
	LogStreamName        string `json:"logStreamName,omitempty"`
}

type attemptDetail struct {
	Container    *attemptContainerDetail `json:"container,omitempty"`
	StartedAt    int64                   `json:"startedAt,omitempty"`
	StoppedAt    int64                   `json:"stoppedAt,omitempty"`
	StatusReason string                  `json:"statusReason,omitempty"`
}

type arrayPropertiesDetail struct {
	StatusSummary map[string]int32 `json:"statusSummary,omitempty"`
	Size          *int32           `json:"size,omitempty"`
	Index         *int32           `json:"index,omitempty"`
}

type jobDetail struct {
	JobArn               string                 `json:"jobArn"`
	JobName              string                 `json:"jobName"`
	JobID                string                 `json:"jobId"`
	JobQueue             string                 `json:"jobQueue"`
	Status               string                 `json:"status"`
	Attempts             []attemptDetail        `json:"attempts,omitempty"`
	StatusReason         string                 `json:"statusReason,omitempty"`
	CreatedAt            int64                  `json:"createdAt,omitempty"`
	RetryStrategy        *retryStrategy         `json:"retryStrategy,omitempty"`
	StartedAt            int64                  `json:"startedAt,omitempty"`
	StoppedAt            int64                  `json:"stoppedAt,omitempty"`
	DependsOn            []jobDependency        `json:"dependsOn,omitempty"`
	JobDefinition        string                 `json:"jobDefinition"`
	Parameters           map[string]string      `json:"parameters,omitempty"`
	Container            *containerDetail       `json:"container,omitempty"`
	ArrayProperties      *arrayPropertiesDetail `json:"arrayProperties,omitempty"`
	Timeout              *jobTimeout            `json:"timeout,omitempty"`
	Tags                 map[string]string      `json:"tags,omitempty"`
	PropagateTags        *bool                  `json:"propagateTags,omitempty"`
	PlatformCapabilities []string               `json:"platformCapabilities,omitempty"`
	IsCancelled          *bool                  `json:"isCancelled,omitempty"`
	IsTerminated         *bool                  `json:"isTerminated,omitempty"`
}

type containerSummary struct {
	ExitCode *int32 `json:"exitCode,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

type arrayPropertiesSummary struct {
	Size  *int32 `json:"size,omitempty"`
	Index *int32 `json:"index,omitempty"`
}

type jobSummary struct {
	JobArn          string                  `json:"jobArn"`
	JobID           string                  `json:"jobId"`
	JobName         string                  `json:"jobName"`
	CreatedAt       int64                   `json:"createdAt,omitempty"`
	Status          string                  `json:"status"`
	StatusReason    string                  `json:"statusReason,omitempty"`
	StartedAt       int64                   `json:"startedAt,omitempty"`
	StoppedAt       int64                   `json:"stoppedAt,omitempty"`
	Container       *containerSummary       `json:"container,omitempty"`
	ArrayProperties *arrayPropertiesSummary `json:"arrayProperties,omitempty"`
	JobDefinition   string                  `json:"jobDefinition,omitempty"`
}

type containerOverrides struct {
	Vcpus                *int32                `json:"vcpus,omitempty"`
	Memory               *int32                `json:"memory,omitempty"`
	Command              []string              `json:"command,omitempty"`
	InstanceType         string                `json:"instanceType,omitempty"`
	Environment          []keyValuePair        `json:"environment,omitempty"`
	ResourceRequirements []resourceRequirement `json:"resourceRequirements,omitempty"`
}

type keyValuesPair struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}
