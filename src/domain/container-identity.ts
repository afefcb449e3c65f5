/**
 * Which app and service an engine container belongs to (reference §6.1), from its labels (legacy
 * `io.resin.*` accepted) and its name `<service>_<imageId>_<releaseId>_<commit>`; the outgoing container
 * of a hand-over carries an `old_` prefix. Works for containers bosun made and ones balena-supervisor made.
 */
import { aliasResinLabels } from './service/labels.js';

export interface ContainerIdentity {
  appId: number;
  /** Absent on containers made by supervisors older than app uuids. */
  appUuid: string | undefined;
  serviceName: string;
  serviceId: number;
  imageId: number;
  releaseId: number;
  /** Absent on legacy names `<service>_<imageId>_<releaseId>`. */
  commit: string | undefined;
  handoverOld: boolean;
}

export type IdentityResult =
  { ours: true; identity: ContainerIdentity } | { ours: false; reason: string };

const INTEGER = /^\d{1,15}$/;
const NAME_TAIL = /^(\d{1,15})_(\d{1,15})(?:_(.+))?$/;
// Without a usable service-name prefix: the last `_<digits>_<digits>` pair, then an optional commit.
const NAME_ANY = /^.*_(\d{1,15})_(\d{1,15})(?:_([^_]*))?$/;

const notOurs = (reason: string): IdentityResult => ({ ours: false, reason });

export function parseContainerIdentity(
  engineName: string,
  rawLabels: Readonly<Record<string, string>>,
): IdentityResult {
  const labels = aliasResinLabels(rawLabels);
  if (labels['io.balena.supervised'] === undefined)
    return notOurs('no io.balena.supervised (or io.resin.supervised) label');
  const appId = labels['io.balena.app-id'];
  if (appId === undefined || !INTEGER.test(appId))
    return notOurs(`io.balena.app-id ${JSON.stringify(appId)} is not an integer`);
  const serviceId = labels['io.balena.service-id'];
  if (serviceId === undefined || !INTEGER.test(serviceId))
    return notOurs(`io.balena.service-id ${JSON.stringify(serviceId)} is not an integer`);
  const serviceName = labels['io.balena.service-name'];
  if (serviceName === undefined || serviceName === '')
    return notOurs('no io.balena.service-name label');

  let name = engineName.startsWith('/') ? engineName.slice(1) : engineName;
  const handoverOld = name.startsWith('old_');
  if (handoverOld) name = name.slice('old_'.length);
  const match = name.startsWith(`${serviceName}_`)
    ? NAME_TAIL.exec(name.slice(serviceName.length + 1))
    : NAME_ANY.exec(name);
  if (!match)
    return notOurs(`name "${engineName}" is not <service>_<imageId>_<releaseId>_<commit>`);

  return {
    ours: true,
    identity: {
      appId: Number(appId),
      appUuid: labels['io.balena.app-uuid'],
      serviceName,
      serviceId: Number(serviceId),
      imageId: Number(match[1]),
      releaseId: Number(match[2]),
      commit: match[3],
      handoverOld,
    },
  };
}
