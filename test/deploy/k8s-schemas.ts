import type { Model } from '@kubernetes-models/base';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { validateCustomResource } from './crd-schemas.ts';
import type { K8sObject } from './kustomize.ts';

// biome-ignore lint/suspicious/noExplicitAny: model constructors take their own typed data.
type ModelClass = new (data: any) => Model<unknown>;

/** The kinds deploy/k8s may render, with the Kubernetes (or operator) JSON Schema each is checked against. */
const models: Record<string, ModelClass> = {
  'v1 ConfigMap': ConfigMap,
  'v1 Namespace': Namespace,
  'v1 Secret': Secret,
  'v1 Service': Service,
  'v1 ServiceAccount': ServiceAccount,
  'apps/v1 Deployment': Deployment,
  'apps/v1 StatefulSet': StatefulSet,
  'batch/v1 Job': Job,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1 NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1 ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1 PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1 PrometheusRule': PrometheusRule,
};

/**
 * Schema errors of one rendered object: built-in kinds against the Kubernetes OpenAPI schemas
 * compiled into `kubernetes-models`, Prometheus Operator kinds against
 * `@kubernetes-models/prometheus-operator`, CloudNativePG's Cluster against our own schema.
 * A kind with no schema is an error: nothing is rendered unchecked.
 */
export function schemaErrors(o: K8sObject): string[] {
  const key = `${o.apiVersion} ${o.kind}`;
  const Ctor = models[key];
  if (Ctor) {
    try {
      new Ctor(o).validate();
      return [];
    } catch (error) {
      return [(error as Error).message];
    }
  }
  return validateCustomResource(o) ?? [`no schema for ${key}`];
}
