"""What the benchmarks (bench/) and the tests (tests/) both drive the stack with from outside:
`jiuye` subprocesses (`testkit.processes`) and a look at Kafka topics and consumer groups that
joins no group (`testkit.kafka`). It lives outside tests/ because bench/ must not import tests."""
