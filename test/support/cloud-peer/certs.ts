/**
 * The cloud peer's TLS material: a CA made at start and a server certificate it signs for 127.0.0.1 and
 * localhost. The agent is given the CA the way balenaOS gives it a self-signed openBalena's CA: base64 PEM
 * in config.json `balenaRootCA`.
 *
 * Why node-forge: node:crypto makes keys but cannot issue X.509 certificates. The `openssl` binary could,
 * but it would be one more tool test-setup.sh must guarantee on a fresh machine and a child process per
 * start; node-forge is pure JS, widely used and maintained. Keys come from node:crypto (native, fast):
 * forge's own RSA key generation is slow in JS.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface PeerTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

function rsaKeys(): {
  publicKey: forge.pki.rsa.PublicKey;
  privateKey: forge.pki.rsa.PrivateKey;
  pem: string;
} {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey),
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    pem: privateKey,
  };
}

function certificate(
  subject: forge.pki.CertificateField[],
  issuer: forge.pki.CertificateField[],
  publicKey: forge.pki.rsa.PublicKey,
  signer: forge.pki.rsa.PrivateKey,
  extensions: object[],
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // Positive serial: a leading 0x00..0x7f byte.
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject(subject);
  cert.setIssuer(issuer);
  cert.setExtensions(extensions);
  cert.sign(signer, forge.md.sha256.create());
  return cert;
}

/** A fresh CA and a server certificate for 127.0.0.1 / ::1 / localhost, valid for a day. */
export function makePeerTls(): PeerTls {
  const ca = rsaKeys();
  const caName = [
    { name: 'commonName', value: `bosun test cloud CA ${randomBytes(4).toString('hex')}` },
  ];
  const caCert = certificate(caName, caName, ca.publicKey, ca.privateKey, [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  const server = rsaKeys();
  const serverCert = certificate(
    [{ name: 'commonName', value: 'localhost' }],
    caName,
    server.publicKey,
    ca.privateKey,
    [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  );
  return {
    caPem: forge.pki.certificateToPem(caCert),
    certPem: forge.pki.certificateToPem(serverCert),
    keyPem: server.pem,
  };
}
