import { InMemoryEventStore } from '@flagline/event-sourcing';

void new InMemoryEventStore().headPosition().then((head) => console.log('head', head));
