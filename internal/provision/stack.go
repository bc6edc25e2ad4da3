package provision

import "github.com/batchxray/batchxray/internal/userdata"

// graph is the stack's resources and what each needs before up can make
// it. The compute environment needs only what it uses (the instance
// profile, the security group and the launch template), so it does not
// wait for the image; the job definition needs its role, the bucket its
// environment names, the log group and the image.
func (p *Provisioner) graph(spec Spec) []*node {
	n := p.names
	instanceRole := &node{res: &iamRole{p: p, want: role{
		name:  n.InstanceRole,
		trust: trustPolicy(ec2Principal(spec.Partition)),
		managed: []string{
			managedPolicyARN(spec.Partition, instanceRolePolicies[0]),
			managedPolicyARN(spec.Partition, instanceRolePolicies[1]),
		},
	}}}
	jobRole := &node{usedByJobs: true, res: &iamRole{p: p, want: role{
		name:   n.JobRole,
		trust:  trustPolicy("ecs-tasks.amazonaws.com"),
		inline: map[string]string{n.JobRolePolicy: jobRolePolicy(spec.Partition, n.Bucket)},
	}}}
	bucketNode := &node{usedByJobs: true, res: &bucket{p: p, partition: spec.Partition}}
	logs := &node{usedByJobs: true, res: &logGroup{p: p, groupName: n.LogGroup, retentionDays: spec.LogRetentionDays}}
	sg := &securityGroup{p: p, subnets: spec.Subnets, own: spec.SecurityGroup}
	sgNode := &node{res: sg}
	lt := &launchTemplate{p: p, params: userdata.Params{Region: p.region, Partition: spec.Partition, Arch: spec.Arch, Version: spec.DaemonVersion, Agent: spec.Agent}}
	ltNode := &node{res: lt}
	sampling := &node{usedByJobs: true, res: &samplingRule{p: p}}
	profile := &instanceProfile{p: p}
	profileNode := &node{res: profile, needs: []*node{instanceRole}}
	ce := &computeEnvironment{p: p, profile: profile, sg: sg, lt: lt,
		maxVCPUs: spec.MaxVCPUs, instanceTypes: spec.InstanceTypes, spot: spec.Spot}
	ceNode := &node{runsJobs: true, res: ce, needs: []*node{profileNode, sgNode, ltNode}}
	queue := &node{res: &jobQueue{p: p, ce: ce}, needs: []*node{ceNode}}
	evGroup := &logGroup{p: p, groupName: n.EventsLogGroup, retentionDays: spec.LogRetentionDays}
	// The job events are kept while jobs run, so down removes them with
	// what the jobs use.
	evGroupNode := &node{usedByJobs: true, res: evGroup}
	evPolicy := &node{usedByJobs: true, res: &eventsPolicy{p: p, group: evGroup}, needs: []*node{evGroupNode}}
	evRule := &node{usedByJobs: true, res: &eventsRule{p: p, group: evGroup}, needs: []*node{evGroupNode, evPolicy}}
	jd := &jobDefinition{p: p, jobRole: jobRole.res.(*iamRole), imageRef: spec.Image,
		bucket: n.Bucket, logGroup: n.LogGroup, sampleURL: spec.SampleURL,
		vcpus: spec.JobVCPUs, memoryMiB: spec.JobMemoryMiB, timeout: spec.JobTimeout,
		imageCommand: spec.ImageCommand, tracer: spec.Tracer}
	jdNode := &node{usedByJobs: true, res: jd, needs: []*node{jobRole, bucketNode, logs}}
	nodes := []*node{instanceRole, jobRole, bucketNode, logs}
	if spec.Image == "" {
		repo := &repository{p: p}
		repoNode := &node{usedByJobs: true, res: repo}
		img := &jobImage{p: p, repo: repo, publisher: spec.Publisher}
		imgNode := &node{usedByJobs: true, removedWith: true, res: img, needs: []*node{repoNode}}
		jd.image = img
		jdNode.needs = append(jdNode.needs, imgNode)
		nodes = append(nodes, repoNode, imgNode)
	}
	return append(nodes, sgNode, ltNode, sampling, profileNode, ceNode, queue, jdNode, evGroupNode, evPolicy, evRule)
}
