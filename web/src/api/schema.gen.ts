/**
 * Generated from Rein's OpenAPI document (shared/http/openapi.ts) by `npm run web:api`. Do not edit.
 */
export interface paths {
  '/v1/action-targets/{targetId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /**
     * Create or replace an action target
     * @description Where the tenant’s approved actions of this target are sent (`POST {url}`, Standard Webhooks signature, `Idempotency-Key: {actionId}`). The URL must pass the outbound policy. The signing secret is in the 201 answer that creates the target, and never again.
     */
    put: operations['putActionTarget'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/connectors/{sourceId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Read the tenant’s pull connector for a source */
    get: operations['getConnector'];
    /**
     * Configure the tenant’s pull connector for a source
     * @description The URL must pass the outbound policy. A bearer secret goes to the secrets store and is never answered.
     */
    put: operations['putConnector'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/connectors/{sourceId}/test': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Test the pull connector for one account
     * @description What the context layer would get for that account: the field names, or the data gap and why. No secret, no values.
     */
    post: operations['testConnector'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/drafts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List drafts
     * @description A CSM sees own drafts; managers and admins all of the tenant’s. Newest first.
     */
    get: operations['listDrafts'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/drafts/{draftId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Read a draft */
    get: operations['getDraft'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /**
     * Edit a draft
     * @description With `application/json` the body’s `content` replaces the draft’s; with `application/merge-patch+json` (RFC 7396) it is merged into it (`null` removes a field). The result must match the workflow’s output schema and rules.
     */
    patch: operations['editDraft'];
    trace?: never;
  };
  '/v1/drafts/{draftId}/approve': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Approve a draft
     * @description Decides the draft with one conditional write, then resumes the waiting run. `If-Match` makes the decision apply only to the version the reviewer read.
     */
    post: operations['approveDraft'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/drafts/{draftId}/escalate': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Escalate a draft
     * @description Hands the draft to managers and admins; the run keeps waiting.
     */
    post: operations['escalateDraft'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/drafts/{draftId}/promote': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Turn a decided draft into an eval case */
    post: operations['promoteDraft'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/drafts/{draftId}/reject': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Reject a draft
     * @description Decides the draft with one conditional write, then resumes the waiting run. `If-Match` makes the decision apply only to the version the reviewer read.
     */
    post: operations['rejectDraft'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/health': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Health check */
    get: operations['getHealth'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/ledger': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Cost report
     * @description Finance and operators see every tenant (or one with `tenantId`); an admin only their own. JSON, or CSV with `format=csv` or `Accept: text/csv`.
     */
    get: operations['getLedger'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/ledger/top-runs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Most expensive runs
     * @description The most expensive runs created in a period (default: the current month), most expensive first: cost fields only, never input or content. Finance and operators see every tenant (or one with `tenantId`); an admin only their own.
     */
    get: operations['getTopRuns'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Review metrics */
    get: operations['getMetrics'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/openapi.json': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** This API document */
    get: operations['getOpenApi'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/prices': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Model prices in force
     * @description The price table the ledger charges with: each model’s row in force now, and the table’s version.
     */
    get: operations['getPrices'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/runs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List runs
     * @description Newest first, over an index on creation time. A CSM sees the runs they requested; managers and admins the tenant’s; operators and finance a tenant’s with `tenantId` (finance without the input). Failed runs carry their error.
     */
    get: operations['listRuns'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/runs/{runId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Read a run */
    get: operations['getRun'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/runs/{runId}/trace': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Read a run’s trace */
    get: operations['getRunTrace'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/sources': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List the source catalogue with the tenant’s record counts
     * @description Each source with the JSON Schema its records must match, and how many records the caller’s tenant holds.
     */
    get: operations['listSources'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/sources/{sourceId}/records': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /**
     * Push records of one source
     * @description Up to 100 records (256 KiB) per push. Each record is checked against the source’s schema and upserted on its own (newest `updatedAt` wins); per-record problems are in `results`. Ids that are not ids refuse the whole batch.
     */
    put: operations['pushRecords'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/sources/{sourceId}/records/{accountId}/{recordId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Delete one pushed record */
    delete: operations['deleteRecord'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/tenants': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List tenants with their budgets
     * @description Every tenant Rein knows, in id order, each with this month’s budget figures (limit, spent, reserved, available).
     */
    get: operations['listTenants'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/tenants/{tenantId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /**
     * Register or rename a tenant
     * @description A tenant must be registered before its budget can be read or set (an unknown tenant answers 404).
     */
    put: operations['putTenant'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/tenants/{tenantId}/budget': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Read a tenant’s monthly budget */
    get: operations['getBudget'];
    /** Set a tenant’s monthly budget */
    put: operations['putBudget'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List the tenant’s webhooks */
    get: operations['listWebhooks'];
    put?: never;
    /**
     * Subscribe a URL to events
     * @description Creates a webhook: Rein POSTs each event of the listed types to the URL, signed with Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`), and retries failures with backoff for 24 h. The URL must pass the outbound policy. The signing secret is in this answer and never again.
     */
    post: operations['createWebhook'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks/{webhookId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Delete a webhook */
    delete: operations['deleteWebhook'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks/{webhookId}/deliveries': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A webhook’s delivery log
     * @description Status, attempts, last response code and next retry of each delivery, newest first.
     */
    get: operations['listWebhookDeliveries'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Redeliver a delivery
     * @description Makes the delivery pending again at once, with a new 24 h retry window.
     */
    post: operations['redeliverWebhook'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/workflows': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List workflows */
    get: operations['listWorkflows'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/workflows/{workflowId}/runs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Start a run
     * @description Checks the caller may request this workflow for this record, reserves nothing yet and starts the run. The same `Idempotency-Key` with the same body returns the same run; with another body, 409.
     */
    post: operations['startRun'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    ActionTarget: {
      /** Format: date-time */
      createdAt: string;
      createdBy: string;
      description: string | null;
      /** @description Shown once, when the secret is created: verify the webhook-signature header with it. */
      signingSecret?: string;
      targetId: string;
      tenantId: string;
      /** Format: date-time */
      updatedAt: string;
      url: string;
    };
    ApproveRequest: {
      actions?: {
        actionId: string;
        args?: {
          [key: string]: unknown;
        };
        /** @enum {string} */
        decision: 'approve' | 'reject';
      }[];
      reason?: string;
    };
    Budget: {
      /** @description The levels already reached (and alerted) this month. */
      alertsSentPercent: number[];
      /** @description Spend levels (percent of the limit) that emit `budget.threshold_reached`. */
      alertThresholdsPercent: number[];
      availableUsd: number;
      limitUsd: number;
      month: string;
      reservedUsd: number;
      spentUsd: number;
      tenantId: string;
    };
    Connector: {
      auth: {
        secretSetAt: string | null;
        /** @enum {string} */
        type: 'bearer' | 'none';
      };
      /** @constant */
      kind: 'http';
      maxBytes: number;
      sourceId: string;
      timeoutMs: number;
      updatedAt: string;
      url: string;
    };
    ConnectorSettings: {
      auth:
        | {
            secret: string;
            /** @constant */
            type: 'bearer';
          }
        | {
            /** @constant */
            type: 'none';
          };
      /** @constant */
      kind: 'http';
      /**
       * @description Largest answer read, bytes.
       * @default 262144
       */
      maxBytes: number;
      /**
       * @description Whole-request budget, ms.
       * @default 3000
       */
      timeoutMs: number;
      /** @description https URL; `{accountId}` is replaced by the account id. */
      url: string;
    };
    ConnectorTestRequest: {
      accountId: string;
    };
    ConnectorTestResult: {
      fields: string[];
      gap: {
        detail: string;
        reason: string;
      } | null;
      latencyMs: number | null;
      ok: boolean;
      records: number;
    };
    CreatedWebhook: {
      /** Format: date-time */
      createdAt: string;
      description: string | null;
      disabledReason: string | null;
      events: (
        | 'run.awaiting_review'
        | 'run.failed'
        | 'draft.escalated'
        | 'draft.decided'
        | 'budget.threshold_reached'
        | 'action.executed'
        | 'action.failed'
      )[];
      lastSuccessAt: string | null;
      secret: string;
      /** @enum {string} */
      status: 'active' | 'disabled';
      tenantId: string;
      url: string;
      webhookId: string;
    };
    CreateWebhookRequest: {
      description?: string;
      events: (
        | 'run.awaiting_review'
        | 'run.failed'
        | 'draft.escalated'
        | 'draft.decided'
        | 'budget.threshold_reached'
        | 'action.executed'
        | 'action.failed'
      )[];
      url: string;
    };
    DecisionRequest: {
      reason?: string;
    };
    Delivery: {
      attempts: number;
      /** Format: date-time */
      createdAt: string;
      deliveryId: string;
      eventId: string;
      /** @enum {string} */
      eventType:
        | 'run.awaiting_review'
        | 'run.failed'
        | 'draft.escalated'
        | 'draft.decided'
        | 'budget.threshold_reached'
        | 'action.executed'
        | 'action.failed';
      lastError: string | null;
      lastResponseCode: number | null;
      nextAttemptAt: string | null;
      /** @enum {string} */
      status: 'pending' | 'succeeded' | 'dead';
      /** Format: date-time */
      updatedAt: string;
      webhookId: string;
      /** Format: date-time */
      windowStartedAt: string;
    };
    DeliveryList: {
      items: components['schemas']['Delivery'][];
    };
    DomainEvent:
      | {
          data: {
            draftId: string;
            runId: string;
            workflowId: string;
          };
          id: string;
          /** Format: date-time */
          occurredAt: string;
          tenantId: string;
          /** @constant */
          type: 'run.awaiting_review';
        }
      | {
          data: {
            /** @enum {string} */
            code:
              | 'model_unavailable'
              | 'invalid_model_output'
              | 'model_refused'
              | 'budget_exceeded'
              | 'rate_limited'
              | 'context_unavailable'
              | 'internal_error'
              | 'interrupted';
            runId: string;
          };
          id: string;
          /** Format: date-time */
          occurredAt: string;
          tenantId: string;
          /** @constant */
          type: 'run.failed';
        }
      | {
          data: {
            draftId: string;
            escalatedBy: string;
            runId: string;
            workflowId: string;
          };
          id: string;
          /** Format: date-time */
          occurredAt: string;
          tenantId: string;
          /** @constant */
          type: 'draft.escalated';
        }
      | {
          data: {
            /** @enum {string} */
            decision: 'approved' | 'rejected' | 'expired';
            draftId: string;
            reviewer: string | null;
            runId: string;
            workflowId: string;
          };
          id: string;
          /** Format: date-time */
          occurredAt: string;
          tenantId: string;
          /** @constant */
          type: 'draft.decided';
        }
      | {
          data: {
            /** @constant */
            budget: 'tenant_month';
            limitUsd: number;
            month: string;
            runId: string;
            spentUsd: number;
            thresholdPercent: number;
          };
          id: string;
          /** Format: date-time */
          occurredAt: string;
          tenantId: string;
          /** @constant */
          type: 'budget.threshold_reached';
        }
      | {
          data: {
            actionId: string;
            draftId: string;
            runId: string;
            workflowId: string;
          };
          id: string;
          /** Format: date-time */
          occurredAt: string;
          tenantId: string;
          /** @constant */
          type: 'action.executed';
        }
      | {
          data: {
            actionId: string;
            code: string;
            draftId: string;
            runId: string;
            workflowId: string;
          };
          id: string;
          /** Format: date-time */
          occurredAt: string;
          tenantId: string;
          /** @constant */
          type: 'action.failed';
        };
    Draft: {
      accountId: string;
      actionCounts: {
        approved: number;
        executed: number;
        executing: number;
        expired: number;
        failed: number;
        proposed: number;
        rejected: number;
        total: number;
      };
      /** @default [] */
      actions: {
        actionId: string;
        args: {
          [key: string]: unknown;
        };
        decision: {
          argsHash: string;
          /** Format: date-time */
          at: string;
          by: string;
          /** @enum {string} */
          decision: 'approve' | 'reject';
        } | null;
        edited: boolean;
        evidence: string[];
        execution: {
          attempts: number;
          error: {
            code: string;
            message: string;
          } | null;
          finishedAt: string | null;
          lastStatus: number | null;
          leaseUntil: string | null;
          responseId: string | null;
        } | null;
        proposedArgs: {
          [key: string]: unknown;
        };
        rationale: string;
        /** @enum {string} */
        status: 'proposed' | 'approved' | 'rejected' | 'expired' | 'executing' | 'executed' | 'failed';
        targetId: string;
        type: string;
      }[];
      content: components['schemas']['RenewalBrief'];
      /** Format: date-time */
      createdAt: string;
      draftId: string;
      /** @default [] */
      edits: {
        /** Format: date-time */
        at: string;
        editor: string;
        version: number;
      }[];
      escalation: {
        /** Format: date-time */
        at: string;
        by: string;
        reason: string | null;
      } | null;
      evidence: {
        fields: {
          [key: string]: string | number | boolean | null;
        };
        id: string;
        provenance: {
          contentHash: string;
          /** Format: date-time */
          fetchedAt: string;
          receivedAt?: string | null;
          updatedAt?: string | null;
        };
        recordId: string;
        source: string;
      }[];
      expiresAt?: string | null;
      model: string;
      original: components['schemas']['RenewalBrief'];
      outcome: {
        /** Format: date-time */
        decidedAt: string;
        /** @enum {string} */
        decision: 'approved' | 'rejected' | 'expired';
        editDistance: number;
        reason: string | null;
        reviewer: string | null;
        timeToDecisionMs: number;
      } | null;
      ownerId: string;
      promptId: string;
      promptVersion: string;
      runId: string;
      /** @enum {string} */
      status: 'awaiting_review' | 'escalated' | 'approved' | 'rejected' | 'expired';
      tenantId: string;
      /** Format: date-time */
      updatedAt: string;
      version: number;
      workflowId: string;
    };
    DraftDetail: {
      accountId: string;
      /** @description The account’s display name (its CRM record’s `name`), null when unknown. */
      accountName: string | null;
      actionCounts: {
        approved: number;
        executed: number;
        executing: number;
        expired: number;
        failed: number;
        proposed: number;
        rejected: number;
        total: number;
      };
      /** @default [] */
      actions: {
        actionId: string;
        args: {
          [key: string]: unknown;
        };
        decision: {
          argsHash: string;
          /** Format: date-time */
          at: string;
          by: string;
          /** @enum {string} */
          decision: 'approve' | 'reject';
        } | null;
        edited: boolean;
        evidence: string[];
        execution: {
          attempts: number;
          error: {
            code: string;
            message: string;
          } | null;
          finishedAt: string | null;
          lastStatus: number | null;
          leaseUntil: string | null;
          responseId: string | null;
        } | null;
        proposedArgs: {
          [key: string]: unknown;
        };
        rationale: string;
        /** @enum {string} */
        status: 'proposed' | 'approved' | 'rejected' | 'expired' | 'executing' | 'executed' | 'failed';
        targetId: string;
        type: string;
      }[];
      content: components['schemas']['RenewalBrief'];
      /** Format: date-time */
      createdAt: string;
      /** @description The sources that gave nothing usable, and why. */
      dataGaps: {
        detail: string;
        /** @enum {string} */
        reason: 'not_found' | 'error' | 'stale' | 'timeout' | 'http_error' | 'invalid_response' | 'blocked';
        source: string;
      }[];
      draftId: string;
      /** @default [] */
      edits: {
        /** Format: date-time */
        at: string;
        editor: string;
        version: number;
      }[];
      escalation: {
        /** Format: date-time */
        at: string;
        by: string;
        reason: string | null;
      } | null;
      evidence: {
        fields: {
          [key: string]: string | number | boolean | null;
        };
        id: string;
        provenance: {
          contentHash: string;
          /** Format: date-time */
          fetchedAt: string;
          receivedAt?: string | null;
          updatedAt?: string | null;
        };
        recordId: string;
        source: string;
      }[];
      expiresAt?: string | null;
      model: string;
      original: components['schemas']['RenewalBrief'];
      outcome: {
        /** Format: date-time */
        decidedAt: string;
        /** @enum {string} */
        decision: 'approved' | 'rejected' | 'expired';
        editDistance: number;
        reason: string | null;
        reviewer: string | null;
        timeToDecisionMs: number;
      } | null;
      ownerId: string;
      promptId: string;
      promptVersion: string;
      runId: string;
      /** @description All evidence of the run’s context, as the model saw it (allow-listed fields only), each marked `cited`. */
      seenEvidence: components['schemas']['SeenEvidenceItem'][];
      /** @enum {string} */
      status: 'awaiting_review' | 'escalated' | 'approved' | 'rejected' | 'expired';
      tenantId: string;
      /** Format: date-time */
      updatedAt: string;
      version: number;
      workflowId: string;
    };
    DraftPage: {
      items: components['schemas']['DraftSummary'][];
      nextCursor: string | null;
    };
    DraftSummary: {
      accountId: string;
      /** @default [] */
      actions: {
        actionId: string;
        args: {
          [key: string]: unknown;
        };
        decision: {
          argsHash: string;
          /** Format: date-time */
          at: string;
          by: string;
          /** @enum {string} */
          decision: 'approve' | 'reject';
        } | null;
        edited: boolean;
        evidence: string[];
        execution: {
          attempts: number;
          error: {
            code: string;
            message: string;
          } | null;
          finishedAt: string | null;
          lastStatus: number | null;
          leaseUntil: string | null;
          responseId: string | null;
        } | null;
        proposedArgs: {
          [key: string]: unknown;
        };
        rationale: string;
        /** @enum {string} */
        status: 'proposed' | 'approved' | 'rejected' | 'expired' | 'executing' | 'executed' | 'failed';
        targetId: string;
        type: string;
      }[];
      /** Format: date-time */
      createdAt: string;
      draftId: string;
      escalation: {
        /** Format: date-time */
        at: string;
        by: string;
        reason: string | null;
      } | null;
      expiresAt?: string | null;
      model: string;
      outcome: {
        /** Format: date-time */
        decidedAt: string;
        /** @enum {string} */
        decision: 'approved' | 'rejected' | 'expired';
        editDistance: number;
        reason: string | null;
        reviewer: string | null;
        timeToDecisionMs: number;
      } | null;
      ownerId: string;
      promptId: string;
      promptVersion: string;
      runId: string;
      /** @enum {string} */
      status: 'awaiting_review' | 'escalated' | 'approved' | 'rejected' | 'expired';
      tenantId: string;
      /** Format: date-time */
      updatedAt: string;
      version: number;
      workflowId: string;
    };
    EditDraftRequest: {
      content: {
        [key: string]: unknown;
      };
    };
    Error: {
      error: {
        /** @example invalid_request */
        code: string;
        details?: components['schemas']['ErrorDetail'][];
        message: string;
        requestId: string;
      };
    };
    ErrorDetail: {
      message: string;
      /** @description Dotted path of the field (body, query or state); empty for the whole request. */
      path: string;
    };
    /**
     * @example {
     *       "status": "ok",
     *       "environment": "local"
     *     }
     */
    Health: {
      environment: string;
      /** @constant */
      status: 'ok';
    };
    LedgerReport: {
      /** @constant */
      currency: 'USD';
      dimensions: ('tenant' | 'workflow' | 'model' | 'day' | 'month' | 'account' | 'user')[];
      estimatedUsd: number;
      from: string;
      groupBy: string;
      rows: {
        attempts: number;
        cachedInputTokens: number;
        costUsd: number;
        estimatedUsd: number;
        group: {
          account?: string;
          day?: string;
          model?: string;
          month?: string;
          tenant?: string;
          user?: string;
          workflow?: string;
        };
        inputTokens: number;
        key: string;
        outputTokens: number;
        runs: number;
      }[];
      tenantId: string | null;
      to: string;
      totalUsd: number;
    };
    MetricsReport: {
      from: string;
      groups: {
        approvalRate: number | null;
        costPerApprovedDraftUsd: number | null;
        costUsd: number;
        decided: number;
        drafts: number;
        editRate: number | null;
        escalationRate: number | null;
        expiryRate: number | null;
        meanEditDistance: number | null;
        promptVersion: string;
        rejectionRate: number | null;
        timeToDecisionMs: {
          mean: number | null;
          p50: number | null;
        };
        workflowId: string;
      }[];
      tenantId: string;
      to: string;
    };
    /** @description This document (OpenAPI 3.1). */
    OpenApiDocument: {
      [key: string]: unknown;
    };
    PriceList: {
      /** @constant */
      currency: 'USD';
      prices: {
        cachedInputPerMTok: number;
        effectiveFrom: string;
        inputPerMTok: number;
        model: string;
        outputPerMTok: number;
      }[];
      /** @constant */
      unit: 'per million tokens';
      version: string;
    };
    PromotedCase: {
      /** @description An eval case as in evals/eval-suite.schema.json (cases[]). */
      case: {
        assert: {
          [key: string]: unknown;
        }[];
        /** @enum {string} */
        category: 'common' | 'missing_data' | 'tool_failure' | 'should_escalate';
        description: string;
        fixture: {
          contract?: {
            [key: string]: unknown;
          };
          crm?: {
            [key: string]: unknown;
          };
          failingSources: string[];
          fetchedAt: string;
          invoices: {
            [key: string]: unknown;
          }[];
          tickets: {
            [key: string]: unknown;
          }[];
          usage?: {
            [key: string]: unknown;
          };
        };
        id: string;
        reference: {
          [key: string]: unknown;
        };
        request: {
          [key: string]: unknown;
        };
      };
      workflowId: string;
    };
    PushRequest: {
      records: ({
        accountId: unknown;
        data: unknown;
        recordId: unknown;
        updatedAt: unknown;
      } & {
        [key: string]: unknown;
      })[];
    };
    PushResult: {
      results: {
        accountId: string | null;
        errors?: {
          message: string;
          path: string;
        }[];
        index: number;
        /** @enum {string} */
        outcome: 'created' | 'updated' | 'unchanged' | 'stale' | 'invalid';
        recordId: string | null;
      }[];
      sourceId: string;
      summary: {
        [key: string]: number;
      };
    };
    PutActionTargetRequest: {
      description?: string;
      /** @description The https URL approved actions are POSTed to. */
      url: string;
    };
    PutBudgetRequest: {
      alertThresholdsPercent?: number[];
      limitUsd: number;
      month?: string;
    };
    PutTenantRequest: {
      /** @description Display name, e.g. Acme Software. */
      name: string;
    };
    RenewalBrief: {
      dataGaps: {
        description: string;
        /** @description The context source that is missing or failed. */
        source: string;
      }[];
      escalation: {
        reason: string | null;
        recommended: boolean;
      };
      /** @enum {string} */
      health: 'healthy' | 'at_risk' | 'critical';
      nextSteps: {
        action: string;
        /** @description ISO date (YYYY-MM-DD) or null. */
        dueBy: string | null;
        /** @description Who should act: a role or a name from the context. */
        owner: string;
      }[];
      openQuestions: string[];
      risks: {
        /** @description Evidence ids from the context that support this risk. */
        evidence: string[];
        /** @enum {string} */
        severity: 'low' | 'medium' | 'high';
        /** @description One line naming the risk. */
        title: string;
      }[];
      summary: string;
    };
    RenewalBriefInput: {
      accountId: string;
      notes?: string | null;
    };
    /**
     * @example {
     *       "runId": "run_01jd0000000000000000000000",
     *       "tenantId": "acme",
     *       "workflowId": "renewal-brief",
     *       "requestedBy": "csm-alice",
     *       "accountId": "acct-northwind",
     *       "input": {
     *         "accountId": "acct-northwind"
     *       },
     *       "status": "awaiting_review",
     *       "draftId": "drf_01jd0000000000000000000000",
     *       "error": null,
     *       "costUsd": 0.0021,
     *       "promptId": "renewal-brief",
     *       "promptVersion": "v1",
     *       "model": "gpt-4.1-mini",
     *       "expiresAt": "2026-12-02T10:00:04.000Z",
     *       "actions": null,
     *       "createdAt": "2026-11-30T10:00:00.000Z",
     *       "updatedAt": "2026-11-30T10:00:04.000Z"
     *     }
     */
    Run: {
      accountId: string;
      actions: {
        approved: number;
        executed: number;
        executing: number;
        expired: number;
        failed: number;
        proposed: number;
        rejected: number;
        total: number;
      } | null;
      costUsd: number;
      /** Format: date-time */
      createdAt: string;
      draftId: string | null;
      error: {
        /** @enum {string} */
        code:
          | 'model_unavailable'
          | 'invalid_model_output'
          | 'model_refused'
          | 'budget_exceeded'
          | 'rate_limited'
          | 'context_unavailable'
          | 'internal_error'
          | 'interrupted';
        details?: {
          message: string;
          path: string;
        }[];
        message: string;
      } | null;
      expiresAt?: string | null;
      input: {
        [key: string]: unknown;
      };
      model: string | null;
      promptId: string;
      promptVersion: string;
      requestedBy: string;
      runId: string;
      /** @enum {string} */
      status: 'running' | 'awaiting_review' | 'escalated' | 'approved' | 'rejected' | 'expired' | 'failed';
      tenantId: string;
      /** Format: date-time */
      updatedAt: string;
      workflowId: string;
    };
    RunPage: {
      items: components['schemas']['RunSummary'][];
      nextCursor: string | null;
    };
    RunSummary: {
      accountId: string;
      costUsd: number;
      /** Format: date-time */
      createdAt: string;
      draftId: string | null;
      error: {
        /** @enum {string} */
        code:
          | 'model_unavailable'
          | 'invalid_model_output'
          | 'model_refused'
          | 'budget_exceeded'
          | 'rate_limited'
          | 'context_unavailable'
          | 'internal_error'
          | 'interrupted';
        details?: {
          message: string;
          path: string;
        }[];
        message: string;
      } | null;
      expiresAt?: string | null;
      /** @description Left out for finance (cost fields only). */
      input?: {
        [key: string]: unknown;
      };
      model: string | null;
      promptId: string;
      promptVersion: string;
      requestedBy: string;
      runId: string;
      /** @enum {string} */
      status: 'running' | 'awaiting_review' | 'escalated' | 'approved' | 'rejected' | 'expired' | 'failed';
      tenantId: string;
      /** Format: date-time */
      updatedAt: string;
      workflowId: string;
    };
    SeenEvidenceItem: {
      /** @description Whether the draft’s content cites this item. */
      cited: boolean;
      fields: {
        [key: string]: string | number | boolean | null;
      };
      id: string;
      provenance: {
        contentHash: string;
        /** Format: date-time */
        fetchedAt: string;
        receivedAt?: string | null;
        updatedAt?: string | null;
      };
      recordId: string;
      source: string;
    };
    SourceList: {
      items: {
        accountField: string | null;
        description: string;
        displayFields: string[];
        lastUpdatedAt: string | null;
        maxAgeDays: number | null;
        recordCount: number;
        recordSchema: {
          [key: string]: unknown;
        };
        sourceId: string;
        title: string;
      }[];
    };
    Span: {
      attributes: {
        [key: string]: string | number | boolean | string[] | null;
      };
      durationMs: number;
      /** Format: date-time */
      endTime: string;
      /** @enum {string} */
      kind:
        | 'request'
        | 'context_source'
        | 'model_attempt'
        | 'tool_call'
        | 'validation'
        | 'draft'
        | 'review'
        | 'action'
        | 'run';
      name: string;
      spanId: string;
      /** Format: date-time */
      startTime: string;
      /** @enum {string} */
      status: 'ok' | 'error';
      traceId: string;
    };
    Tenant: {
      /** @description The current month’s budget (the default budget until an operator sets one). */
      budget: {
        availableUsd: number;
        /** @constant */
        currency: 'USD';
        limitUsd: number;
        month: string;
        reservedUsd: number;
        spentUsd: number;
      };
      createdAt: string;
      name: string;
      tenantId: string;
      updatedAt: string;
    };
    TenantPage: {
      items: {
        /** @description The current month’s budget (the default budget until an operator sets one). */
        budget: {
          availableUsd: number;
          /** @constant */
          currency: 'USD';
          limitUsd: number;
          month: string;
          reservedUsd: number;
          spentUsd: number;
        };
        createdAt: string;
        name: string;
        tenantId: string;
        updatedAt: string;
      }[];
      nextCursor: string | null;
    };
    TopRunsReport: {
      /** @constant */
      currency: 'USD';
      from: string;
      runs: {
        accountId: string;
        costUsd: number;
        createdAt: string;
        model: string | null;
        requestedBy: string;
        runId: string;
        /** @enum {string} */
        status: 'running' | 'awaiting_review' | 'escalated' | 'approved' | 'rejected' | 'expired' | 'failed';
        tenantId: string;
        workflowId: string;
      }[];
      tenantId: string | null;
      to: string;
    };
    Trace: {
      runId: string;
      spans: components['schemas']['Span'][];
      traceId: string | null;
    };
    Webhook: {
      /** Format: date-time */
      createdAt: string;
      description: string | null;
      disabledReason: string | null;
      events: (
        | 'run.awaiting_review'
        | 'run.failed'
        | 'draft.escalated'
        | 'draft.decided'
        | 'budget.threshold_reached'
        | 'action.executed'
        | 'action.failed'
      )[];
      lastSuccessAt: string | null;
      /** @enum {string} */
      status: 'active' | 'disabled';
      tenantId: string;
      url: string;
      webhookId: string;
    };
    WebhookList: {
      items: components['schemas']['Webhook'][];
    };
    WorkflowList: {
      items: {
        description: string;
        title: string;
        workflowId: string;
      }[];
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  putActionTarget: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The target id: 2 to 32 lower-case letters, digits or dashes. */
        targetId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "url": "https://crm.example.com/rein/actions",
         *       "description": "Our CRM"
         *     }
         */
        'application/json': components['schemas']['PutActionTargetRequest'];
      };
    };
    responses: {
      /** @description The target, replaced (no signing secret). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ActionTarget'];
        };
      };
      /** @description The target, created, with its signing secret (shown once). */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ActionTarget'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is too large. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getConnector: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The source id from the catalogue (`GET /v1/sources`). */
        sourceId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The connector, without its secret. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Connector'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  putConnector: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The source id from the catalogue (`GET /v1/sources`). */
        sourceId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "kind": "http",
         *       "url": "https://crm.example.com/rein/accounts/{accountId}/notes",
         *       "auth": {
         *         "type": "bearer",
         *         "secret": "crm-token"
         *       }
         *     }
         */
        'application/json': components['schemas']['ConnectorSettings'];
      };
    };
    responses: {
      /** @description The connector, without its secret. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Connector'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is too large. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  testConnector: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The source id from the catalogue (`GET /v1/sources`). */
        sourceId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "accountId": "acct-northwind"
         *     }
         */
        'application/json': components['schemas']['ConnectorTestRequest'];
      };
    };
    responses: {
      /** @description The outcome of one pull. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ConnectorTestResult'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is too large. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listDrafts: {
    parameters: {
      query?: {
        accountId?: string;
        cursor?: string;
        limit?: number;
        /** @description One or several statuses, comma-separated: `awaiting_review,escalated`. */
        status?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of draft summaries (no content). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DraftPage'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getDraft: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The draft id (`drf_…`). */
        draftId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The draft with content, cited evidence, version, status and edit history; the account’s display name; all evidence the model saw, each marked `cited`; the data gaps. */
      200: {
        headers: {
          /** @description The draft version, e.g. `"3"`. */
          etag: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DraftDetail'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  editDraft: {
    parameters: {
      query?: never;
      header?: {
        /** @description Required: the ETag of the version being edited; stale → 412, missing → 428. */
        'if-match'?: string;
      };
      path: {
        /** @description The draft id (`drf_…`). */
        draftId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "content": {
         *         "summary": "Renewal at risk: usage down 30% since March."
         *       }
         *     }
         */
        'application/json': components['schemas']['EditDraftRequest'];
        /**
         * @example {
         *       "content": {
         *         "summary": "Renewal at risk: usage down 30% since March."
         *       }
         *     }
         */
        'application/merge-patch+json': components['schemas']['EditDraftRequest'];
      };
    };
    responses: {
      /** @description The new version. */
      200: {
        headers: {
          /** @description The draft version, e.g. `"3"`. */
          etag: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Draft'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource is not in a state that allows this (illegal transition, idempotency key reuse). */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The `If-Match` version is stale. */
      412: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is too large. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The operation requires `If-Match`. */
      428: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  approveDraft: {
    parameters: {
      query?: never;
      header?: {
        /** @description The ETag of the version the decision is based on; stale → 412. */
        'if-match'?: string;
      };
      path: {
        /** @description The draft id (`drf_…`). */
        draftId: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        /**
         * @example {
         *       "reason": "Numbers checked with finance.",
         *       "actions": [
         *         {
         *           "actionId": "act_01jd0000000000000000000000_0",
         *           "decision": "approve"
         *         }
         *       ]
         *     }
         */
        'application/json': components['schemas']['ApproveRequest'];
      };
    };
    responses: {
      /** @description The approved draft. */
      200: {
        headers: {
          /** @description The draft version, e.g. `"3"`. */
          etag: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Draft'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource is not in a state that allows this (illegal transition, idempotency key reuse). */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The `If-Match` version is stale. */
      412: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is too large. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  escalateDraft: {
    parameters: {
      query?: never;
      header?: {
        /** @description The ETag of the version the decision is based on; stale → 412. */
        'if-match'?: string;
      };
      path: {
        /** @description The draft id (`drf_…`). */
        draftId: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        /**
         * @example {
         *       "reason": "Numbers checked with finance."
         *     }
         */
        'application/json': components['schemas']['DecisionRequest'];
      };
    };
    responses: {
      /** @description The escalated draft. */
      200: {
        headers: {
          /** @description The draft version, e.g. `"3"`. */
          etag: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Draft'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource is not in a state that allows this (illegal transition, idempotency key reuse). */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The `If-Match` version is stale. */
      412: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is too large. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  promoteDraft: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The draft id (`drf_…`). */
        draftId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The eval case. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PromotedCase'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource is not in a state that allows this (illegal transition, idempotency key reuse). */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  rejectDraft: {
    parameters: {
      query?: never;
      header?: {
        /** @description The ETag of the version the decision is based on; stale → 412. */
        'if-match'?: string;
      };
      path: {
        /** @description The draft id (`drf_…`). */
        draftId: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        /**
         * @example {
         *       "reason": "Numbers checked with finance."
         *     }
         */
        'application/json': components['schemas']['DecisionRequest'];
      };
    };
    responses: {
      /** @description The rejected draft. */
      200: {
        headers: {
          /** @description The draft version, e.g. `"3"`. */
          etag: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Draft'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource is not in a state that allows this (illegal transition, idempotency key reuse). */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The `If-Match` version is stale. */
      412: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is too large. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getHealth: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The API is up. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Health'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getLedger: {
    parameters: {
      query?: {
        /** @description Answer as CSV (`csv`) or JSON; overrides `Accept`. */
        format?: 'json' | 'csv';
        /** @description First day (UTC), inclusive. Default: the month’s first day. */
        from?: string;
        /** @description One or two dimensions, comma-separated, from `tenant, workflow, model, day, month, account, user`: `tenant,model`. Default: `tenant`. */
        groupBy?: string;
        /** @description A calendar month instead of from/to. */
        month?: string;
        tenantId?: string;
        /** @description Last day (UTC), inclusive. Default: the month’s last day. */
        to?: string;
      };
      header?: {
        accept?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The cost report. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['LedgerReport'];
          'text/csv': string;
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The requested media type is not served. */
      406: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getTopRuns: {
    parameters: {
      query?: {
        /** @description First day (UTC) the runs were created, inclusive. Default: the month’s first day. */
        from?: string;
        /** @description How many runs (1–100). */
        limit?: number;
        /** @description A calendar month instead of from/to. */
        month?: string;
        tenantId?: string;
        /** @description Last day (UTC) the runs were created, inclusive. Default: the month’s last day. */
        to?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The most expensive runs. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TopRunsReport'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getMetrics: {
    parameters: {
      query: {
        from: string;
        tenantId?: string;
        to: string;
        workflowId?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Review outcomes per workflow and prompt version. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['MetricsReport'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getOpenApi: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The OpenAPI 3.1 document. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OpenApiDocument'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getPrices: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The prices in force. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PriceList'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listRuns: {
    parameters: {
      query?: {
        accountId?: string;
        cursor?: string;
        /** @description Created on or after this day (UTC). Default: 30 days ago. */
        from?: string;
        limit?: number;
        /** @description One or several statuses, comma-separated: `failed` or `awaiting_review,escalated`. */
        status?: string;
        /** @description Operators and finance: the tenant whose runs to list. */
        tenantId?: string;
        /** @description Created on or before this day (UTC). Default: today. */
        to?: string;
        workflowId?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of runs. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunPage'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getRun: {
    parameters: {
      query?: {
        /** @description Operators and finance: the tenant to act on (default: the caller’s own). */
        tenantId?: string;
      };
      header?: never;
      path: {
        /** @description The run id (`run_…`). */
        runId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The run. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Run'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getRunTrace: {
    parameters: {
      query?: {
        /** @description Operators and finance: the tenant to act on (default: the caller’s own). */
        tenantId?: string;
      };
      header?: never;
      path: {
        /** @description The run id (`run_…`). */
        runId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The spans of the run. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Trace'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listSources: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The catalogue. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SourceList'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  pushRecords: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The source id from the catalogue (`GET /v1/sources`). */
        sourceId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "records": [
         *         {
         *           "accountId": "acct-northwind",
         *           "recordId": "note-1",
         *           "updatedAt": "2026-11-01T09:00:00Z",
         *           "data": {
         *             "body": "Asked about the renewal date."
         *           }
         *         }
         *       ]
         *     }
         */
        'application/json': components['schemas']['PushRequest'];
      };
    };
    responses: {
      /** @description What happened to each record, in request order. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PushResult'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is too large. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  deleteRecord: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The account id, URL-encoded. */
        accountId: string;
        /** @description The record id, URL-encoded. */
        recordId: string;
        /** @description The source id from the catalogue (`GET /v1/sources`). */
        sourceId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The record is deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listTenants: {
    parameters: {
      query?: {
        /** @description The previous page’s `nextCursor`. */
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of tenants. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "items": [
           *         {
           *           "tenantId": "acme",
           *           "name": "Acme Software",
           *           "createdAt": "2026-11-01T09:00:00.000Z",
           *           "updatedAt": "2026-11-01T09:00:00.000Z",
           *           "budget": {
           *             "month": "2026-11",
           *             "currency": "USD",
           *             "limitUsd": 200,
           *             "spentUsd": 12.5,
           *             "reservedUsd": 0,
           *             "availableUsd": 187.5
           *           }
           *         }
           *       ],
           *       "nextCursor": null
           *     }
           */
          'application/json': components['schemas']['TenantPage'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  putTenant: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        tenantId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "name": "Acme Software"
         *     }
         */
        'application/json': components['schemas']['PutTenantRequest'];
      };
    };
    responses: {
      /** @description The tenant, renamed. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Tenant'];
        };
      };
      /** @description The tenant, registered. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Tenant'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is too large. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getBudget: {
    parameters: {
      query?: {
        /** @description Default: the current month. */
        month?: string;
      };
      header?: never;
      path: {
        tenantId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The budget with spent and reserved. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Budget'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  putBudget: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        tenantId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "limitUsd": 250,
         *       "alertThresholdsPercent": [
         *         50,
         *         80,
         *         100
         *       ]
         *     }
         */
        'application/json': components['schemas']['PutBudgetRequest'];
      };
    };
    responses: {
      /** @description The new budget. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Budget'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is too large. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listWebhooks: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Every webhook of the tenant, oldest first (no secrets). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['WebhookList'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  createWebhook: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "url": "https://hooks.example.com/rein",
         *       "events": [
         *         "draft.decided",
         *         "run.failed"
         *       ]
         *     }
         */
        'application/json': components['schemas']['CreateWebhookRequest'];
      };
    };
    responses: {
      /** @description The webhook, with its signing secret (shown once). */
      201: {
        headers: {
          /** @description The webhook’s path. */
          location: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['CreatedWebhook'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource is not in a state that allows this (illegal transition, idempotency key reuse). */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is too large. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  deleteWebhook: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The webhook id (`whk_…`). */
        webhookId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The webhook is deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listWebhookDeliveries: {
    parameters: {
      query?: {
        limit?: number;
      };
      header?: never;
      path: {
        /** @description The webhook id (`whk_…`). */
        webhookId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The deliveries, newest first. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DeliveryList'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  redeliverWebhook: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The delivery id (`dlv_…`). */
        deliveryId: string;
        /** @description The webhook id (`whk_…`). */
        webhookId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The delivery, pending again. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Delivery'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource is not in a state that allows this (illegal transition, idempotency key reuse). */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listWorkflows: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The workflows this deployment runs. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['WorkflowList'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  startRun: {
    parameters: {
      query?: never;
      header?: {
        /** @description Replays within 24 h return the same run. */
        'idempotency-key'?: string;
      };
      path: {
        workflowId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        /**
         * @example {
         *       "accountId": "acct-northwind"
         *     }
         */
        'application/json': components['schemas']['RenewalBriefInput'];
      };
    };
    responses: {
      /** @description The run was accepted; poll `Location`. */
      202: {
        headers: {
          /** @description The run’s URL. */
          location: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Run'];
        };
      };
      /** @description The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          /** @description The bearer challenge. */
          'www-authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The tenant’s budget is spent (`budget_exceeded`). */
      402: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The caller’s roles do not allow this operation. */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource does not exist or belongs to another tenant. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The resource is not in a state that allows this (illegal transition, idempotency key reuse). */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is too large. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests (`rate_limited`); retry after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description Seconds to wait before retrying. */
          'retry-after': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description An internal error; the body carries only the request id. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
}
