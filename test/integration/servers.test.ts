/**
 * The test server launchers (test/support) themselves: each starts a real server in a temp folder
 * on a free port, answers a real client, stops, and leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';

import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { createConnection } from 'mariadb';
import { MongoClient } from 'mongodb';

import { startFerretDb } from '../support/ferretdb.js';
import { startMariaDb } from '../support/mariadb.js';
import { startMinio } from '../support/minio.js';

describe('test server launchers', () => {
  test('MariaDB: user pds logs in with its password over TCP; grants are enforced; stop removes the folder', async () => {
    const server = await startMariaDb();
    try {
      const connection = await createConnection({
        host: server.host,
        port: server.port,
        user: server.user,
        password: server.password,
        database: server.database,
      });
      try {
        const rows: Array<{ answer: number; db: string }> = await connection.query('SELECT 6 * 7 AS answer, DATABASE() AS db');
        assert.equal(Number(rows[0].answer), 42);
        assert.equal(rows[0].db, server.database);
        const infile: Array<{ Value: string }> = await connection.query("SHOW VARIABLES LIKE 'local_infile'");
        assert.equal(infile[0].Value, 'ON');
      } finally {
        await connection.end();
      }
      await assert.rejects(
        createConnection({ host: server.host, port: server.port, user: server.user, password: 'wrong' }),
        (error: { code?: string }) => error.code === 'ER_ACCESS_DENIED_ERROR',
      );
    } finally {
      await server.stop();
    }
    assert.equal(existsSync(server.dataDir), false);
  });

  test('FerretDB: the MongoDB driver pings, writes and reads; stop removes the folder', async () => {
    const server = await startFerretDb();
    try {
      const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 5000 });
      try {
        const ping = await client.db('admin').command({ ping: 1 });
        assert.equal(ping.ok, 1);
        const collection = client.db('pds_test').collection<{ _id: string; n: number }>('launcher');
        await collection.insertOne({ _id: 'a', n: 1 });
        assert.deepEqual(await collection.findOne({ _id: 'a' }), { _id: 'a', n: 1 });
      } finally {
        await client.close();
      }
    } finally {
      await server.stop();
    }
    assert.equal(existsSync(server.dataDir), false);
  });

  test('MinIO: signed requests with its credentials succeed; stop removes the folder', async () => {
    const server = await startMinio();
    try {
      const client = new S3Client({
        region: server.region,
        endpoint: server.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey },
      });
      const buckets = await client.send(new ListBucketsCommand({}));
      assert.deepEqual(buckets.Buckets ?? [], []);
      client.destroy();
    } finally {
      await server.stop();
    }
    assert.equal(existsSync(server.dataDir), false);
  });
});
