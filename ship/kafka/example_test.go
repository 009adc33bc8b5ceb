package kafka_test

import (
	"fmt"

	"github.com/auditkit/audit/ship/kafka"
)

func ExampleParseURL() {
	t, err := kafka.ParseURL("kafka://k1,k2:9093/audit")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(t.Brokers, t.Topic)
	fmt.Println(kafka.Key("agent01", "AgentServer"))
	_, err = kafka.ParseURL("kafka://k1")
	fmt.Println(err)
	// Output:
	// [k1:9092 k2:9093] audit
	// agent01/AgentServer
	// audit: destination "kafka://k1": missing topic: want kafka://broker1,broker2/topic: bad destination
}
