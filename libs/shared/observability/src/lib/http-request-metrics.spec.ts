import express from 'express';
import request from 'supertest';
import { parseExposition } from './exposition';
import { httpRequestMetrics } from './http-request-metrics';
import { ServiceMetrics } from './metrics';

describe('httpRequestMetrics', () => {
  it('counts and times requests by method, route template and status class, never by raw URL', async () => {
    const metrics = new ServiceMetrics('command-service');
    const app = express();
    app.use(httpRequestMetrics(metrics, 'flagline_admin'));
    const router = express.Router();
    router.get('/projects/:id', (req, res) => void res.status(req.params['id'] === 'missing' ? 404 : 200).json({ id: req.params['id'] }));
    router.post('/projects', (_req, res) => void res.status(201).json({}));
    app.use('/api/v1', router);
    app.get('/boom', () => {
      throw new Error('boom');
    });
    for (const id of ['1', '2', '3', 'missing']) await request(app).get(`/api/v1/projects/${id}`);
    await request(app).post('/api/v1/projects').send({});
    await request(app).get('/nowhere/at/all');
    await request(app).get('/boom');
    const samples = parseExposition((await metrics.render()).body);
    const total = (route: string, statusClass: string, method = 'GET'): number | undefined => samples.value('flagline_admin_requests_total', { method, route, status_class: statusClass });
    expect(total('/api/v1/projects/:id', '2xx')).toBe(3);
    expect(total('/api/v1/projects/:id', '4xx')).toBe(1);
    expect(total('/api/v1/projects', '2xx', 'POST')).toBe(1);
    expect(total('unmatched', '4xx')).toBe(1);
    expect(total('/boom', '5xx')).toBe(1);
    // One series per route template and status class, whatever the ids requested.
    expect(samples.matching('flagline_admin_requests_total').map((sample) => sample.labels['route']).sort()).toEqual([
      '/api/v1/projects',
      '/api/v1/projects/:id',
      '/api/v1/projects/:id',
      '/boom',
      'unmatched',
    ]);
    expect(samples.value('flagline_admin_request_duration_seconds_count', { method: 'GET', route: '/api/v1/projects/:id', status_class: '2xx' })).toBe(3);
    expect(samples.types.get('flagline_admin_request_duration_seconds')).toBe('histogram');
  });
});
