import { Ajv, type ValidateFunction } from 'ajv';

/**
 * Small JSON Schemas for the custom resources deploy/k8s uses whose CRDs no npm package
 * ships: the fields we set, with the names, types and required fields of the CRD
 * (CloudNativePG config/crd/bases/postgresql.cnpg.io_clusters.yaml). Unknown fields are
 * errors, so a typo cannot pass as an ignored extra.
 */
const quantity = {
  anyOf: [{ type: 'string', pattern: '^[0-9.]+(m|Ki|Mi|Gi|Ti|k|M|G|T)?$' }, { type: 'number' }],
};
const resources = {
  type: 'object',
  additionalProperties: false,
  properties: {
    requests: { type: 'object', additionalProperties: quantity },
    limits: { type: 'object', additionalProperties: quantity },
  },
};
const strict = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});

// Every field of Cluster.spec in the CRD (so any real field is accepted), typed where we use it.
const clusterSpecFields = [
  'affinity',
  'backup',
  'bootstrap',
  'certificates',
  'description',
  'enablePDB',
  'enableSuperuserAccess',
  'env',
  'envFrom',
  'ephemeralVolumeSource',
  'ephemeralVolumesSizeLimit',
  'externalClusters',
  'failoverDelay',
  'imageCatalogRef',
  'imageName',
  'imagePullPolicy',
  'imagePullSecrets',
  'inheritedMetadata',
  'instances',
  'livenessProbeTimeout',
  'logLevel',
  'managed',
  'maxSyncReplicas',
  'minSyncReplicas',
  'monitoring',
  'nodeMaintenanceWindow',
  'plugins',
  'podSecurityContext',
  'podSelectorRefs',
  'postgresGID',
  'postgresUID',
  'postgresql',
  'primaryLease',
  'primaryUpdateMethod',
  'primaryUpdateStrategy',
  'priorityClassName',
  'probes',
  'projectedVolumeTemplate',
  'replica',
  'replicationSlots',
  'resources',
  'schedulerName',
  'seccompProfile',
  'securityContext',
  'serviceAccountName',
  'serviceAccountTemplate',
  'smartShutdownTimeout',
  'startDelay',
  'stopDelay',
  'storage',
  'superuserSecret',
  'switchoverDelay',
  'tablespaces',
  'topologySpreadConstraints',
  'walStorage',
];

const cnpgCluster = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'postgresql.cnpg.io/v1' },
    kind: { const: 'Cluster' },
    metadata: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } },
    spec: {
      type: 'object',
      required: ['instances'],
      additionalProperties: false,
      properties: {
        ...Object.fromEntries(clusterSpecFields.map((f) => [f, {}])),
        instances: { type: 'integer', minimum: 1 },
        imageName: { type: 'string', pattern: '^[^:@]+(:[^:@]+|@sha256:[0-9a-f]{64})$' },
        primaryUpdateStrategy: { enum: ['unsupervised', 'supervised'] },
        storage: strict({
          size: { type: 'string', pattern: '^[0-9]+(Mi|Gi|Ti)$' },
          storageClass: { type: 'string' },
          resizeInUseVolumes: { type: 'boolean' },
          pvcTemplate: { type: 'object' },
        }),
        bootstrap: strict({
          initdb: strict({
            database: { type: 'string' },
            owner: { type: 'string' },
            secret: strict({ name: { type: 'string', minLength: 1 } }, ['name']),
            dataChecksums: { type: 'boolean' },
            encoding: { type: 'string' },
            locale: { type: 'string' },
          }),
          recovery: { type: 'object' },
          pg_basebackup: { type: 'object' },
        }),
        postgresql: strict({
          parameters: { type: 'object', additionalProperties: { type: 'string' } },
          synchronous: strict(
            {
              method: { enum: ['any', 'first'] },
              number: { type: 'integer', minimum: 1 },
              dataDurability: { enum: ['required', 'preferred'] },
            },
            ['method', 'number'],
          ),
          pg_hba: { type: 'array', items: { type: 'string' } },
          shared_preload_libraries: { type: 'array', items: { type: 'string' } },
        }),
        affinity: strict({
          enablePodAntiAffinity: { type: 'boolean' },
          topologyKey: { type: 'string' },
          podAntiAffinityType: { enum: ['preferred', 'required'] },
          nodeSelector: { type: 'object', additionalProperties: { type: 'string' } },
          tolerations: { type: 'array' },
        }),
        // RoleConfiguration of the CRD (spec.managed.roles[]).
        managed: strict({
          roles: {
            type: 'array',
            items: strict(
              {
                name: { type: 'string', minLength: 1 },
                ensure: { enum: ['present', 'absent'] },
                comment: { type: 'string' },
                login: { type: 'boolean' },
                superuser: { type: 'boolean' },
                createdb: { type: 'boolean' },
                createrole: { type: 'boolean' },
                inherit: { type: 'boolean' },
                replication: { type: 'boolean' },
                bypassrls: { type: 'boolean' },
                connectionLimit: { type: 'integer' },
                validUntil: { type: 'string' },
                disablePassword: { type: 'boolean' },
                passwordSecret: strict({ name: { type: 'string', minLength: 1 } }, ['name']),
                inRoles: { type: 'array', items: { type: 'string', minLength: 1 } },
              },
              ['name'],
            ),
          },
          services: { type: 'object' },
        }),
        backup: strict({
          retentionPolicy: { type: 'string', pattern: '^[1-9][0-9]*[dwm]$' },
          target: { enum: ['primary', 'prefer-standby'] },
          barmanObjectStore: strict(
            {
              destinationPath: { type: 'string', pattern: '^(s3|gs|https?)://' },
              endpointURL: { type: 'string' },
              serverName: { type: 'string' },
              s3Credentials: strict({
                accessKeyId: strict({ name: { type: 'string' }, key: { type: 'string' } }, ['name', 'key']),
                secretAccessKey: strict({ name: { type: 'string' }, key: { type: 'string' } }, [
                  'name',
                  'key',
                ]),
                region: strict({ name: { type: 'string' }, key: { type: 'string' } }, ['name', 'key']),
                inheritFromIAMRole: { type: 'boolean' },
              }),
              wal: strict({
                compression: { enum: ['gzip', 'bzip2', 'snappy'] },
                maxParallel: { type: 'integer', minimum: 1 },
              }),
              data: strict({
                compression: { enum: ['gzip', 'bzip2', 'snappy'] },
                jobs: { type: 'integer', minimum: 1 },
              }),
            },
            ['destinationPath'],
          ),
        }),
        monitoring: strict({
          enablePodMonitor: { type: 'boolean' },
          disableDefaultQueries: { type: 'boolean' },
          customQueriesConfigMap: { type: 'array' },
        }),
        resources,
      },
    },
  },
};

// cert-manager.io/v1 (its CRDs: Issuer and Certificate), the fields we set, typed.
const objectMeta = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1 }, namespace: { type: 'string' } },
};
const certManagerIssuer = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'cert-manager.io/v1' },
    kind: { const: 'Issuer' },
    metadata: objectMeta,
    spec: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      properties: {
        selfSigned: strict({ crlDistributionPoints: { type: 'array', items: { type: 'string' } } }),
        ca: strict({ secretName: { type: 'string', minLength: 1 } }, ['secretName']),
        acme: { type: 'object' },
        vault: { type: 'object' },
        venafi: { type: 'object' },
      },
    },
  },
};
const duration = { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?(h|m|s))+$' };
const certManagerCertificate = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'cert-manager.io/v1' },
    kind: { const: 'Certificate' },
    metadata: objectMeta,
    spec: strict(
      {
        secretName: { type: 'string', minLength: 1 },
        commonName: { type: 'string', maxLength: 64 },
        dnsNames: { type: 'array', items: { type: 'string', minLength: 1 } },
        ipAddresses: { type: 'array', items: { type: 'string' } },
        isCA: { type: 'boolean' },
        duration,
        renewBefore: duration,
        privateKey: strict({
          algorithm: { enum: ['RSA', 'ECDSA', 'Ed25519'] },
          size: { type: 'integer' },
          encoding: { enum: ['PKCS1', 'PKCS8'] },
          rotationPolicy: { enum: ['Never', 'Always'] },
        }),
        usages: {
          type: 'array',
          items: {
            enum: [
              'signing',
              'digital signature',
              'key encipherment',
              'server auth',
              'client auth',
              'cert sign',
              'crl sign',
            ],
          },
        },
        issuerRef: strict(
          {
            name: { type: 'string', minLength: 1 },
            kind: { enum: ['Issuer', 'ClusterIssuer'] },
            group: { type: 'string' },
          },
          ['name'],
        ),
      },
      ['secretName', 'issuerRef'],
    ),
  },
};

const cnpgScheduledBackup = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'postgresql.cnpg.io/v1' },
    kind: { const: 'ScheduledBackup' },
    metadata: objectMeta,
    spec: strict(
      {
        // Six fields, seconds first (robfig/cron with seconds).
        schedule: { type: 'string', pattern: '^\\S+( \\S+){5}$' },
        immediate: { type: 'boolean' },
        suspend: { type: 'boolean' },
        backupOwnerReference: { enum: ['none', 'self', 'cluster'] },
        method: { enum: ['barmanObjectStore', 'volumeSnapshot', 'plugin'] },
        target: { enum: ['primary', 'prefer-standby'] },
        cluster: strict({ name: { type: 'string', minLength: 1 } }, ['name']),
      },
      ['schedule', 'cluster'],
    ),
  },
};

// NACK (the JetStream controller, nats-io/nack deploy/crds.yml, v1beta2): the fields Conveyor sets
// and their siblings we may set, typed and with the CRD's enums. Durations are Go's (no days).
const goDuration = { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?(h|m|s|ms|us|ns))+$' };
const managed = {
  account: { type: 'string', pattern: '^[^.*>]+$' },
  preventDelete: { type: 'boolean' },
  preventUpdate: { type: 'boolean' },
};
const custom = (kind: string, spec: object) => ({
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'jetstream.nats.io/v1beta2' },
    kind: { const: kind },
    metadata: objectMeta,
    spec,
  },
});
const nackStream = custom(
  'Stream',
  strict(
    {
      ...managed,
      name: { type: 'string', minLength: 1, pattern: '^[^.*>]*$' },
      description: { type: 'string' },
      subjects: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      retention: { enum: ['limits', 'interest', 'workqueue'] },
      storage: { enum: ['file', 'memory'] },
      discard: { enum: ['old', 'new'] },
      replicas: { type: 'integer', minimum: 1 },
      maxAge: goDuration,
      maxBytes: { type: 'integer', minimum: -1 },
      maxMsgs: { type: 'integer', minimum: -1 },
      maxMsgSize: { type: 'integer', minimum: -1 },
      maxConsumers: { type: 'integer', minimum: -1 },
      duplicateWindow: goDuration,
      denyDelete: { type: 'boolean' },
      denyPurge: { type: 'boolean' },
    },
    ['name', 'subjects'],
  ),
);
const nackConsumer = custom(
  'Consumer',
  strict(
    {
      ...managed,
      streamName: { type: 'string', minLength: 1 },
      durableName: { type: 'string', minLength: 1, pattern: '^[^.*>]+$' },
      description: { type: 'string' },
      filterSubject: { type: 'string', minLength: 1 },
      filterSubjects: { type: 'array', items: { type: 'string', minLength: 1 } },
      deliverPolicy: { enum: ['all', 'last', 'new', 'byStartSequence', 'byStartTime', 'lastPerSubject'] },
      ackPolicy: { enum: ['none', 'all', 'explicit'] },
      ackWait: goDuration,
      maxDeliver: { type: 'integer', minimum: -1 },
      maxAckPending: { type: 'integer', minimum: -1 },
      replayPolicy: { enum: ['instant', 'original'] },
      replicas: { type: 'integer', minimum: 0 },
    },
    ['streamName', 'durableName'],
  ),
);
const secretRef = strict({ name: { type: 'string', minLength: 1 } }, ['name']);
const nackAccount = custom(
  'Account',
  strict(
    {
      name: { type: 'string', minLength: 1, pattern: '^[^.*>]*$' },
      servers: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      nkey: strict({ secret: secretRef, seed: { type: 'string', minLength: 1 } }, ['secret', 'seed']),
      creds: strict({ secret: secretRef, file: { type: 'string' } }),
      tls: strict(
        { secret: secretRef, ca: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } },
        ['secret'],
      ),
      tlsFirst: { type: 'boolean' },
    },
    ['name', 'servers'],
  ),
);

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validators: Record<string, ValidateFunction> = {
  'postgresql.cnpg.io/v1 Cluster': ajv.compile(cnpgCluster),
  'cert-manager.io/v1 Issuer': ajv.compile(certManagerIssuer),
  'cert-manager.io/v1 Certificate': ajv.compile(certManagerCertificate),
  'postgresql.cnpg.io/v1 ScheduledBackup': ajv.compile(cnpgScheduledBackup),
  'jetstream.nats.io/v1beta2 Stream': ajv.compile(nackStream),
  'jetstream.nats.io/v1beta2 Consumer': ajv.compile(nackConsumer),
  'jetstream.nats.io/v1beta2 Account': ajv.compile(nackAccount),
};

/** Errors for a custom resource we have a schema for, or undefined when we have none. */
export function validateCustomResource(o: { apiVersion: string; kind: string }): string[] | undefined {
  const validate = validators[`${o.apiVersion} ${o.kind}`];
  if (!validate) return undefined;
  if (validate(o)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
  );
}
