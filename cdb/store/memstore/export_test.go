package memstore

// ChunkCount returns the number of chunks stored.
func (s *Store) ChunkCount() (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.chunks), nil
}
