import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { CfnQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface MonitoredQueueProps {
  /** Physical name; the logical id is pinned separately (stateful resource). */
  queueName: string;
  visibilityTimeout: Duration;
  maxReceiveCount: number;
  encryptionKey: IKey;
  alarmTopic: ITopic;
  /** Alarm when more than this many messages wait (default 100). */
  depthAlarmThreshold?: number;
  /** Keep messages this long (default 4 days; DLQs keep 14 days). */
  retention?: Duration;
}

/**
 * A source queue with its own dead-letter queue (redrive after `maxReceiveCount`), both KMS-encrypted
 * and TLS-only, an alarm on the source queue's depth and an alarm on any message in the DLQ.
 * Logical ids are pinned to `<id>Queue` / `<id>Dlq` so a refactor never replaces a queue.
 */
export class MonitoredQueue extends Construct {
  readonly queue: Queue;
  readonly dlq: Queue;
  readonly depthAlarm: Alarm;
  readonly dlqAlarm: Alarm;

  constructor(scope: Construct, id: string, props: MonitoredQueueProps) {
    super(scope, id);
    this.dlq = new Queue(this, 'Dlq', {
      queueName: `${props.queueName}-dlq`,
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'Queue', {
      queueName: props.queueName,
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: props.retention ?? Duration.days(4),
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: props.maxReceiveCount },
    });
    (this.queue.node.defaultChild as CfnQueue).overrideLogicalId(`${id}Queue`);
    (this.dlq.node.defaultChild as CfnQueue).overrideLogicalId(`${id}Dlq`);

    const action = new SnsAction(props.alarmTopic);
    this.depthAlarm = new Alarm(this, 'DepthAlarm', {
      alarmDescription: `${props.queueName}: more than ${props.depthAlarmThreshold ?? 100} messages waiting`,
      metric: this.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: props.depthAlarmThreshold ?? 100,
      evaluationPeriods: 5,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.dlqAlarm = new Alarm(this, 'DlqAlarm', {
      alarmDescription: `${props.queueName}: messages were dead-lettered`,
      metric: this.dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    for (const a of [this.depthAlarm, this.dlqAlarm]) {
      a.addAlarmAction(action);
      a.addOkAction(action);
    }
  }
}
