/**
 * Reads the CDK-synthesized CloudFormation templates of one stage and resolves the intrinsic
 * functions the local stack needs (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::ImportValue), so the
 * tables, function environments and state machine definition come from CDK, never from a copy.
 */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}
export interface CfnTemplate {
  Resources?: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

export class TemplateSet {
  private readonly resources = new Map<string, { stack: string; resource: CfnResource }>();
  private readonly exports = new Map<string, unknown>();

  /**
   * @param namePrefix prefix of the physical names of named resources (tables): stacks that share
   *   one DynamoDB Local (the integration tests) each get their own tables.
   */
  constructor(
    private readonly templates: Record<string, CfnTemplate>,
    private readonly namePrefix = 'rein-local-',
  ) {
    for (const [stack, template] of Object.entries(templates)) {
      for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
        this.resources.set(logicalId, { stack, resource });
      }
    }
    for (const template of Object.values(templates)) {
      for (const output of Object.values(template.Outputs ?? {})) {
        if (output.Export) this.exports.set(String(this.resolve(output.Export.Name)), output.Value);
      }
    }
  }

  /** Every resource of a CloudFormation type, by logical id. */
  ofType(type: string): [string, CfnResource][] {
    return [...this.resources.entries()]
      .filter(([, value]) => value.resource.Type === type)
      .map(([id, value]) => [id, value.resource]);
  }

  /** The local physical name of a resource: stable across restarts so data survives them. */
  physicalName(logicalId: string): string {
    const entry = this.resources.get(logicalId);
    if (!entry) throw new Error(`Unknown resource ${logicalId}.`);
    const type = entry.resource.Type;
    if (type === 'AWS::Lambda::Function')
      return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
    if (type === 'AWS::StepFunctions::StateMachine')
      return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${logicalId}`;
    if (type === 'AWS::SecretsManager::Secret')
      return `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${logicalId}`;
    return `${this.namePrefix}${logicalId}`;
  }

  private arnOf(logicalId: string): string {
    const name = this.physicalName(logicalId);
    if (name.startsWith('arn:')) return name;
    const entry = this.resources.get(logicalId);
    if (entry?.resource.Type === 'AWS::DynamoDB::Table')
      return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${name}`;
    return `arn:aws:local:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${logicalId}`;
  }

  /** Resolves intrinsic functions in a template value. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (value === null || typeof value !== 'object') return value;
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    if (keys.length === 1) {
      const [key] = keys;
      const arg = key === undefined ? undefined : object[key];
      switch (key) {
        case 'Ref':
          return this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
          if (!logicalId) throw new Error('Fn::GetAtt without a logical id');
          if (attribute === 'Arn') return this.arnOf(logicalId);
          return this.physicalName(logicalId);
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, unknown[]];
          return parts.map((part) => String(this.resolve(part))).join(separator);
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg)
            ? (arg as [string, Record<string, unknown>])
            : [String(arg), {}];
          return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
            if (name in vars) return String(this.resolve(vars[name]));
            if (name.includes('.')) {
              const [id, attr] = name.split('.');
              return String(this.resolve({ 'Fn::GetAtt': [id, attr] }));
            }
            return String(this.ref(name));
          });
        }
        case 'Fn::ImportValue': {
          const name = String(this.resolve(arg));
          if (!this.exports.has(name)) throw new Error(`No stack exports ${name}.`);
          return this.resolve(this.exports.get(name));
        }
        case 'Fn::Select': {
          const [index, list] = arg as [number, unknown];
          const resolved = this.resolve(list);
          return Array.isArray(resolved) ? resolved[index] : undefined;
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, unknown];
          return String(this.resolve(text)).split(separator);
        }
        default:
          break;
      }
    }
    return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, this.resolve(v)]));
  }

  private ref(name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return LOCAL_REGION;
      case 'AWS::AccountId':
        return LOCAL_ACCOUNT;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return 'rein-local';
      case 'AWS::NoValue':
        return undefined;
      default: {
        const entry = this.resources.get(name);
        if (!entry) return `unresolved-${name}`;
        const type = entry.resource.Type;
        if (type === 'AWS::StepFunctions::StateMachine' || type === 'AWS::SecretsManager::Secret')
          return this.arnOf(name);
        return this.physicalName(name);
      }
    }
  }

  get stackNames(): string[] {
    return Object.keys(this.templates);
  }
}
